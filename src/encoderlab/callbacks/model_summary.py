"""The model summary at the start of fit: Lightning's layer table, without the FLOPs column and `Total FLOPs: 0` it
prints when it has no example input to count them on (ours never give one)."""

from __future__ import annotations

import logging
from typing import Any

from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities.model_summary import get_human_readable_count

log = logging.getLogger("encoderlab.model_summary")


class ModelSummaryTable(ModelSummary):
    """Name, type, parameters and mode of each top-level module, then the totals; logged (so also in train.log)."""

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs: Any,
    ) -> None:
        columns = [(name, values) for name, values in summary_data if name != "FLOPs" or total_flops]
        widths = [max(len(name), *(len(value) for value in values)) for name, values in columns]
        rows = [[name for name, _ in columns], *zip(*(values for _, values in columns), strict=True)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        frozen = total_parameters - trainable_parameters
        totals = (
            f"{get_human_readable_count(trainable_parameters).strip()} trainable, "
            f"{get_human_readable_count(frozen).strip()} frozen parameters ({model_size:.1f} MB)"
        )
        if total_flops:
            totals += f", {get_human_readable_count(total_flops)} FLOPs"
        log.info("\n%s\n%s", "\n".join(lines), totals)
