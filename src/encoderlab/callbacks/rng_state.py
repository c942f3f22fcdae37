"""RNG states inside checkpoints, so a resumed run draws the same dropout masks as one that never stopped."""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch


class RNGState(L.Callback):
    """Saves the Python, NumPy and torch (CPU and CUDA) generators with every checkpoint and restores them when
    training starts from one. Data order does not depend on them (samplers are seeded by epoch)."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        legacy_state = np.random.get_state()
        assert isinstance(legacy_state, tuple)  # the global generator is an MT19937: its legacy state is a tuple
        name, keys, position, has_gauss, gauss = legacy_state
        # numpy arrays would make the checkpoint unloadable with torch.load(weights_only=True): store a tensor
        numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss)
        state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # restored here, after the sanity check, right where the interrupted run would have continued
        if self._pending is None:
            return
        random.setstate(self._pending["python"])
        name, keys, position, has_gauss, gauss = self._pending["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
        torch.set_rng_state(self._pending["torch"])
        if "cuda" in self._pending and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(self._pending["cuda"])
        self._pending = None
