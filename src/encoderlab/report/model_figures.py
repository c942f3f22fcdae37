"""Figures of one model: a confusion matrix and attention heat maps (matplotlib `Figure` objects, no pyplot, so
they render the same in a training job, a test and a notebook)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image


def confusion_matrix_figure(matrix: torch.Tensor | np.ndarray, label_names: Sequence[str], title: str) -> Figure:
    """Counts in each cell, colour by row share (recall per true class); rows are true labels."""
    counts = np.asarray(matrix, dtype=np.int64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.8 + 0.6 * len(label_names)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, col), count in np.ndenumerate(counts):
        axes.text(col, row, str(count), ha="center", va="center", color="white" if shares[row, col] > 0.5 else "black")
    ticks = range(len(label_names))
    axes.set_xticks(ticks, label_names, rotation=45, ha="right")
    axes.set_yticks(ticks, label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    axes.set_title(f"{title}\naccuracy {accuracy:.1%}", fontsize="medium")
    figure.colorbar(image, ax=axes, label="share of the true class")
    return figure


def attention_figure(tokens: Sequence[str], maps: dict[str, torch.Tensor], title: str = "") -> Figure:
    """One panel per map of one sentence: self-attention `[heads, T, T]` (averaged over heads; rows: queries) or
    attention pooling `[T]` (one weight per token). Padding is cut off: pass the sentence's real tokens only."""
    length = len(tokens)
    panels = [(name, w.detach().float().cpu()) for name, w in maps.items()]
    panels = [(f"{name} (mean over heads)", w.mean(0)) if w.dim() == 3 else (name, w) for name, w in panels]
    width = max(3.0, 0.3 * length + 1.5)
    height = width if any(w.dim() == 2 for _, w in panels) else 2.2
    figure = Figure(figsize=(width * len(panels), height), layout="constrained")
    for index, (name, weights) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), index)
        grid = weights[:length, :length] if weights.dim() == 2 else weights[None, :length]
        image = axes.imshow(grid.numpy(), cmap="viridis", aspect="auto")  # colours span this panel's range
        axes.set_xticks(range(length), tokens, rotation=90, fontsize="small")
        if weights.dim() == 2:
            axes.set_yticks(range(length), tokens, fontsize="small")
            axes.set_title(name, fontsize="medium")
        else:
            axes.set_yticks([])
            axes.set_title(f"{name} weights", fontsize="medium")
            for position, value in enumerate(grid[0].tolist()):
                axes.text(position, 0, f"{value:.2f}", ha="center", va="center", fontsize="x-small", color="white")
        figure.colorbar(image, ax=axes, shrink=0.8)
    if title:
        figure.suptitle(title, fontsize="medium")
    return figure


def to_image(figure: Figure, dpi: int = 100) -> Image.Image:
    """The figure as a PIL image (what `wandb.Image` and `WandbLogger.log_image` take)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
