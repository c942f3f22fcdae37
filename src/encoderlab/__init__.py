"""encoderlab: develop, pretrain, fine-tune and compare text encoders."""

__version__ = "0.1.0"
