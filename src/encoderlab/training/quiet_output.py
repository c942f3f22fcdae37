"""What a run prints and nobody acts on, left out: Lightning's litlogger advert and its notes on settings we chose,
W&B's note on mixed image sizes (our figures differ in size on purpose), and a deprecation inside Lightning's own
pytree code that a user cannot fix. Everything else (warnings included) still shows."""

from __future__ import annotations

import logging
import warnings

NOISE = (
    "try installing [litlogger]",
    "Trainer already configured with model summary callbacks",  # ours, without the FLOPs it cannot count
    "was configured so validation will run at the end of the training epoch",
    "Images sizes do not match",
)
# (logger, where the message is logged): Lightning's rank-zero helpers log to the first, W&B to the root logger
LOGGERS = ("lightning.fabric.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero", "")


class DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in NOISE)


def quiet_output() -> None:
    """Install the filters (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropNoise) for f in logger.filters):
            logger.addFilter(DropNoise())
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
