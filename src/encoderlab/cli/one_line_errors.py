"""The one error wrapper every command shares: a problem that is the user's to fix (a `UserError`, also one that
Hydra's `instantiate` wrapped) is one line on stderr, `error: ...`, and its exit code (2); anything else is a bug
and keeps its traceback. The `@hydra.main` commands call `report` themselves: Hydra names a run's job (and its log
file) after the file its task function's code is in, which a decorator here would change."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from encoderlab.errors import user_error_in

P = ParamSpec("P")
R = TypeVar("R")


def report(error: BaseException) -> int:
    """Print `error` as one line and return its exit code when it is the user's; re-raise it otherwise."""
    user_error = user_error_in(error)
    if user_error is None:
        raise error
    print(f"error: {user_error}", file=sys.stderr)
    return user_error.exit_code


def one_line_errors(main: Callable[P, R]) -> Callable[P, R | int]:
    """`main` returning the user error's exit code instead of raising it (console scripts exit with it)."""

    @functools.wraps(main)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | int:
        try:
            return main(*args, **kwargs)
        except Exception as error:
            return report(error)

    return guarded
