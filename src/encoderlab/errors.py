"""Errors that are the user's to fix (or to act on): `train.py` prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with the user's config, data or files; the message says what is wrong and how to fix it."""

    exit_code = 2


class DataNotFoundError(UserError):
    pass


class ConfigError(UserError):
    pass


class CheckpointError(UserError):
    pass


class NonFiniteLossError(UserError):
    pass


class TrainingInterrupted(UserError):
    """A signal stopped training after a resumable checkpoint was written; exits with 128 + the signal number."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signal_number


def user_error_in(error: BaseException) -> UserError | None:
    """The `UserError` behind `error`, if any: Hydra's `instantiate` wraps what a constructor raises in an
    `InstantiationException` (`raise ... from error`), which would otherwise reach the user as a traceback."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UserError):
            return seen
        seen = seen.__cause__
    return None
