"""Reading a checkpoint file: tensors and plain data, never code. Every failure is one line that names the file.

A checkpoint is a pickle, and unpickling a planted object can run any code. `torch.load(weights_only=True)` builds
only tensors, containers, numbers, strings and a few torch types (dtype, device, Size) and refuses every other class
or function. Every checkpoint encoderlab writes stays inside that set: hyper-parameters are saved as plain
containers (`tasks/base.py`), RNG states as tensors (`callbacks/rng_state.py`), and Lightning's loop, callback,
optimizer and scheduler states are plain data. So nothing is added to torch's allow-list; a test trains each task
and checks that its checkpoint needs none (tests/test_checkpoint_safety.py).

Everything that reads a checkpoint comes through here: the inference loader (predict, export, serve, compression,
translate), the compatibility check before a resume, and Lightning's own load at resume and test
(`AtomicCheckpointIO.load_checkpoint`).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from encoderlab.errors import CheckpointError

_REFUSED_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint's dict, loaded without running any code; `CheckpointError` (one line) when it can't be."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; pass the .ckpt a training run wrote under checkpoints/")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = _refused_globals(path, error)
        if refused:
            kinds = "object of type " + refused[0] if len(refused) == 1 else "objects of types " + ", ".join(refused)
            raise CheckpointError(
                f"checkpoint {path} holds a pickled {kinds} that encoderlab does not load (it could run code); "
                "use a checkpoint written by encoderlab's train.py"
            ) from None
        raise _unreadable(path, error) from None
    except Exception as error:  # truncated zip, foreign file: torch raises many types for these
        raise _unreadable(path, error) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict); pass a .ckpt written by train.py")
    return checkpoint


def _unreadable(path: Path, error: Exception) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path} can't be read ({type(error).__name__}): it is truncated or corrupt, or not a checkpoint; "
        "pass another .ckpt (e.g. an epoch checkpoint in the same folder)"
    )


def _refused_globals(path: Path, error: pickle.UnpicklingError) -> list[str]:
    """The classes and functions the file's pickle names beyond the allow-list, found without unpickling it."""
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(path)  # zip checkpoints: a static scan
    except Exception:  # the legacy (non-zip) format, or a file that isn't a checkpoint at all
        found = []
    return found or _REFUSED_GLOBAL.findall(str(error))
