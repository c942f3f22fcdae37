"""Where raw data comes from: local files in the data directory first, the HF hub (through `datasets`) otherwise."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from datasets import DatasetDict

from encoderlab.errors import DataNotFoundError


def hub_offline() -> bool:
    return any(
        os.environ.get(var, "0").lower() in ("1", "true", "yes") for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def local_or_hub(
    name: str,
    local_files: dict[str, Path],
    read_local: Callable[[dict[str, Path]], DatasetDict],
    read_hub: Callable[[], DatasetDict],
    hub_id: str,
) -> DatasetDict:
    """Read `local_files` when they all exist, else download `hub_id`; fail with one line saying what to do."""
    missing = [path for path in local_files.values() if not path.exists()]
    if not missing:
        return read_local(local_files)
    hint = (
        f"{name}: no local files (expected {missing[0]}) and "
        f"{{why}}. Run `make data`, or set paths.data_dir=<folder holding {missing[0].parent.name}/>"
    )
    if hub_offline():
        raise DataNotFoundError(
            hint.format(why=f"the HF hub is offline (HF_HUB_OFFLINE=1), so {hub_id} can't be fetched")
        )
    try:
        return read_hub()
    except Exception as error:  # any hub/network failure becomes the same actionable message
        raise DataNotFoundError(hint.format(why=f"downloading {hub_id} failed ({type(error).__name__})")) from error
