"""encoderlab: develop, pretrain, fine-tune and compare text encoders."""

from encoderlab.config.resolvers import register_resolvers

__version__ = "0.1.0"

register_resolvers()
