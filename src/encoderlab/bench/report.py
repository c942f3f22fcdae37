"""The benchmark's record: JSON with the command, commit, device and versions, and a Markdown table of it."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch

from encoderlab.report.provenance import command_line, device_description, git_commit


def versions() -> dict[str, str | None]:
    try:
        import transformers

        transformers_version: str | None = transformers.__version__
    except ImportError:
        transformers_version = None
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": str(cudnn) if cudnn else None,
        "transformers": transformers_version,
    }


def environment(device: torch.device) -> dict[str, Any]:
    return {
        "command": command_line(),
        "commit": git_commit(),
        "device": device_description() if device.type == "cuda" else f"{device_description()} [{device.type}]",
        "torch_threads": torch.get_num_threads(),
        "versions": versions(),
    }


def _number(value: float | None, digits: int = 0, scale: float = 1.0) -> str:
    return "–" if value is None else f"{value / scale:,.{digits}f}"


def markdown_table(record: dict[str, Any]) -> str:
    """One row per contender; the ratio (our best / the best peer) on the case's best row of ours."""
    lines = [
        "| case | contender | tokens/s | ms/step | MFU | peak MB | ours/peer |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in record["cases"]:
        for m in case["measurements"]:
            best_ours = m["name"] == case["ours"]
            ratio = f"**{case['ratio']:.2f}×**" if best_ours and case["ratio"] is not None else ""
            speed = m["error"] or _number(m["tokens_per_sec"])
            lines.append(
                f"| {case['case']} | {m['name']} | {speed} | {_number(m['sec_per_step'], 1, 1e-3)} "
                f"| {_number(m['mfu'], 3)} | {_number(m['peak_memory_mb'])} | {ratio} |"
            )
    peaks = [case for case in record["cases"] if case.get("gemm_rates")]
    if peaks:
        lines += [
            "",
            "MFU is model FLOP/s over the best bf16 `torch.mm` rate measured in this run at the case's shapes:",
        ]
        for case in peaks:
            rates = ", ".join(f"{rate['dtype']} {rate['best_tflops']:.2f} TFLOP/s" for rate in case["gemm_rates"])
            lines.append(f"- {case['case']}: {rates}")
    return "\n".join(lines)


def summary_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields every `results/` record shares with a run's `summary.json`: the models benched, the data
    (synthetic batches) and a flat dict of final figures (each case's ratio, each contender's tokens/s and MFU)."""
    metrics: dict[str, float] = {}
    for case in record["cases"]:
        if case["ratio"] is not None:
            metrics[f"{case['case']}/ours_over_peer"] = case["ratio"]
        for m in case["measurements"]:
            if m["error"] is None:
                metrics[f"{case['case']}/{m['name']}/tokens_per_sec"] = m["tokens_per_sec"]
                if m.get("mfu") is not None:
                    metrics[f"{case['case']}/{m['name']}/mfu"] = m["mfu"]
    models = sorted({c["shape"]["model"] if isinstance(c["shape"]["model"], str) else "tiny" for c in record["cases"]})
    return {"model": ",".join(models), "data": "synthetic token batches", "metrics": metrics}


def write(record: dict[str, Any], path: Path) -> None:
    """JSON and Markdown, each replaced whole (a run killed mid-write leaves the previous version, not half a file)."""
    record.update(summary_fields(record))
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, json.dumps(record, indent=2)), (path.with_suffix(".md"), markdown_table(record))):
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text + "\n")
        partial.replace(target)
