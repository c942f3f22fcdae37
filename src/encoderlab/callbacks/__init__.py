"""Callbacks and plugins the configs refer to: speed, atomic checkpoint writes, RNG state, checkpoint averaging,
signals, non-finite loss, memory trimming, figures, the progress bar, the model summary and the per-epoch log line.

May import: `hardware`, `report`, `tasks` (checkpoint reading), `errors`."""

from encoderlab.callbacks.checkpoint_averaging import CheckpointAveraging
from encoderlab.callbacks.checkpoint_io import AtomicCheckpointIO
from encoderlab.callbacks.data_wait import DataWait
from encoderlab.callbacks.epoch_log import EpochMetricsLog
from encoderlab.callbacks.figures import ClassificationFigures
from encoderlab.callbacks.interrupt import SaveOnInterrupt
from encoderlab.callbacks.memory_trim import MemoryTrim
from encoderlab.callbacks.model_summary import ModelSummaryTable
from encoderlab.callbacks.non_finite import StopOnNonFiniteLoss
from encoderlab.callbacks.progress import ResumableProgressBar, RichRunProgressBar, progress_bar
from encoderlab.callbacks.rng_state import RNGState
from encoderlab.callbacks.speed import TrainingSpeed

__all__ = [
    "AtomicCheckpointIO",
    "CheckpointAveraging",
    "ClassificationFigures",
    "DataWait",
    "EpochMetricsLog",
    "MemoryTrim",
    "ModelSummaryTable",
    "RNGState",
    "ResumableProgressBar",
    "RichRunProgressBar",
    "SaveOnInterrupt",
    "StopOnNonFiniteLoss",
    "TrainingSpeed",
    "progress_bar",
]
