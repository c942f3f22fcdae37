"""encoderlab: develop, pretrain, fine-tune and compare text encoders."""

from encoderlab.config_resolvers import register_resolvers

__version__ = "0.1.0"

register_resolvers()
