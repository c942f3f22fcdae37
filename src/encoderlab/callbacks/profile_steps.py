"""`debug=profile`: torch.profiler over a window of real training steps (data, forward, backward, optimizer), the
operators ranked by their own CPU time, written as `<run>/profile.json` (a `results/`-shaped record) and a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.profiler import ProfilerActivity, profile


class ProfileSteps(L.Callback):
    def __init__(
        self,
        skip: int = 5,
        steps: int = 10,
        top: int = 25,
        output: str = "profile.json",
        model: str = "",
        data: str = "",
    ) -> None:
        self.skip, self.steps, self.top, self.output = skip, steps, top, Path(output)
        self.model, self.data = model, data
        self._profiler: profile | None = None
        self.record: dict[str, Any] | None = None

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, idx: int) -> None:
        if trainer.global_step == self.skip and self._profiler is None:
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
            self._profiler = profile(activities=activities, record_shapes=True)
            self._profiler.__enter__()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if trainer.global_step >= self.skip + self.steps:
            self._finish(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._finish(trainer)  # the run ended inside the window: report the steps it had

    def _finish(self, trainer: L.Trainer) -> None:
        if self._profiler is not None and self.record is None:
            self._profiler.__exit__(None, None, None)
            self.steps = max(1, min(self.steps, trainer.global_step - self.skip))
            self.record = self._summarise(self._profiler)
            if trainer.is_global_zero:
                self.output.parent.mkdir(parents=True, exist_ok=True)
                self.output.write_text(json.dumps(self.record, indent=2) + "\n")
                self.output.with_suffix(".txt").write_text(
                    self._profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=self.top)
                    + "\n\nBy input shape (which call of an operator costs what):\n"
                    + self._profiler.key_averages(group_by_input_shape=True).table(
                        sort_by="self_cpu_time_total", row_limit=self.top
                    )
                    + "\n"
                )

    def _summarise(self, profiler: profile) -> dict[str, Any]:
        from encoderlab.report.provenance import command_line, device_description, git_commit

        events = [e for e in profiler.key_averages() if e.self_cpu_time_total > 0]
        total = sum(e.self_cpu_time_total for e in events)
        ranked = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[: self.top]
        return {
            "command": command_line(),
            "commit": git_commit(),
            "device": device_description(),
            "model": self.model,
            "data": self.data,
            "metrics": {"self_cpu_ms_per_step": total / 1e3 / self.steps, "torch_threads": torch.get_num_threads()},
            "profiled_steps": self.steps,
            "top_operators": [
                {
                    "name": e.key,
                    "calls_per_step": e.count / self.steps,
                    "self_cpu_ms_per_step": e.self_cpu_time_total / 1e3 / self.steps,
                    "share": e.self_cpu_time_total / total,
                }
                for e in ranked
            ],
        }
