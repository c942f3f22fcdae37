"""Errors that are the user's to fix: `train.py` prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's config, data or files; the message says what is wrong and how to fix it."""


class DataNotFoundError(UserError):
    pass


class ConfigError(UserError):
    pass
