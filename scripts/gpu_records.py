"""Records of scripts/gpu_evidence.sh, in the shape of every results/ record (command, commit, device, model, data,
metrics: a flat dict of final figures). Imports nothing of encoderlab, so it still reports when installing failed.

  python scripts/gpu_records.py pytest JUNIT_XML OUT_JSON --command CMD --wall SEC
  python scripts/gpu_records.py summary STAGES_TSV OUT_JSON --records DIR --mode gpu|rehearse --command CMD --wall SEC
  python scripts/gpu_records.py table DIR        (Markdown: the README's "GPU results" rows from a folder of records)

The device description comes from `ENCODERLAB_DEVICE` (the script computes it once), the commit from git or, on
a copy of the tree without .git, from `ENCODERLAB_COMMIT`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# stage -> (what it shows, the figures the table quotes: metric key -> label)
STAGES: dict[str, tuple[str, dict[str, str]]] = {
    "gpu_tests": ("`pytest -m gpu` (tests/test_gpu.py)", {k: k for k in ("passed", "failed", "error", "skipped")}),
    "bench_full_eager": ("`encoderlab-bench --size full --no-compile`: every case", {}),
    "bench_full_compiled": ("`encoderlab-bench --size full --cases mlm` compiled, vs HF compiled", {}),
    "pretrain_bert_small_enwiki": (
        "bert_small masked-LM on enwiki, fixed time budget",
        {"test/loss": "WikiText-2 test loss", "test/acc": "masked acc", "train/tokens_per_sec": "tokens/s"},
    ),
    "sst2_bert_small_pretrained": ("SST-2 fine-tuning from that encoder", {"test/acc": "SST-2 acc"}),
    "multi30k_transformer_seq2seq": (
        "transformer_seq2seq Multi30k en→de, beam 5",
        {"test/bleu": "test_2016_flickr sacreBLEU", "test/chrf": "chrF"},
    ),
}


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return commit.stdout.strip() + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("ENCODERLAB_COMMIT") or "unknown"


def common(command: str) -> dict[str, Any]:
    return {"command": command, "commit": git_commit(), "device": os.environ.get("ENCODERLAB_DEVICE", "unknown")}


def pytest_record(junit: Path, command: str, wall: float) -> dict[str, Any]:
    """Counts and each test's outcome from pytest's JUnit XML (absent: pytest never ran, everything counts 0)."""
    outcomes: dict[str, str] = {}
    if junit.is_file():
        for case in ET.parse(junit).getroot().iter("testcase"):
            kinds = {child.tag for child in case}
            outcome = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
            outcomes[f"{case.get('classname')}::{case.get('name')}"] = {"failure": "failed"}.get(outcome, outcome)
    counts = {k: float(sum(v == k for v in outcomes.values())) for k in ("passed", "failed", "error", "skipped")}
    return {
        **common(command),
        "model": "every model config (tiny shapes)",
        "data": "tiny SST-2 / Multi30k / text built at test time",
        "wall_time_sec": wall,
        "metrics": counts,
        "tests": outcomes,
    }


def read_stages(path: Path) -> list[dict[str, Any]]:
    stages = []
    for line in path.read_text().splitlines():
        name, status, rc, wall, limit, command = line.split("\t", 5)
        stages.append(
            {"name": name, "status": status, "rc": int(rc), "wall_sec": float(wall), "limit_sec": int(limit),
             "command": command}
        )  # fmt: skip
    return stages


def flat_figures(record: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in record.get("metrics", {}).items() if isinstance(v, int | float)}


def summary_record(stages_tsv: Path, records: Path, mode: str, command: str, wall: float) -> dict[str, Any]:
    stages = read_stages(stages_tsv) if stages_tsv.is_file() else []
    metrics: dict[str, float] = {}
    models, data = [], []
    for stage in stages:
        metrics[f"{stage['name']}/stage_passed"] = float(stage["status"] == "passed")
        metrics[f"{stage['name']}/stage_wall_sec"] = stage["wall_sec"]
        path = records / f"{stage['name']}.json"
        stage["record"] = path.name if path.is_file() else None
        if stage["record"]:
            record = json.loads(path.read_text())
            models.append(str(record.get("model")))
            data.append(str(record.get("data")))
            for key in STAGES.get(stage["name"], ("", {}))[1]:
                if key in flat_figures(record):
                    metrics[f"{stage['name']}/{key}"] = float(record["metrics"][key])
    return {
        **common(command),
        "model": ", ".join(dict.fromkeys(models)),
        "data": ", ".join(dict.fromkeys(data)),
        "mode": mode,
        "wall_time_sec": wall,
        # as the script's exit status: no stage failed or ran out of time (skipped: no wheels here, say)
        "passed": any(s["status"] == "passed" for s in stages)
        and not any(s["status"] in ("failed", "timeout") for s in stages),
        "stages": stages,
        "metrics": metrics,
    }


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:.4g}"


def bench_figures(record: dict[str, Any]) -> str:
    ratios = [f"{case['case']} {case['ratio']:.2f}×" for case in record.get("cases", []) if case.get("ratio")]
    done = "" if record.get("complete", True) else " (stopped by its time box)"
    return ("ours/peer: " + ", ".join(ratios) if ratios else "no case finished") + done


def table(records: Path) -> str:
    """One row per stage: its figures where its record exists, else `not measured`."""
    summary_path = records / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    lines = ["| stage | what | figures | wall | device | record |", "| --- | --- | --- | ---: | --- | --- |"]
    for name, (what, keys) in STAGES.items():
        path = records / f"{name}.json"
        if not path.is_file():
            lines.append(f"| {name} | {what} | not measured | – | – | – |")
            continue
        record = json.loads(path.read_text())
        if name.startswith("bench"):
            figures = bench_figures(record)
        else:
            found = flat_figures(record)
            figures = ", ".join(f"{label} {number(found[key])}" for key, label in keys.items() if key in found)
        signature = record.get("sacrebleu_signatures", {}).get("bleu")
        figures += f" (`{signature}`)" if signature else ""
        wall = record.get("wall_time_sec")
        wall_text = f"{wall:,.0f} s" if isinstance(wall, int | float) else "–"
        lines.append(f"| {name} | {what} | {figures} | {wall_text} | {record.get('device')} | `{path.name}` |")
    if summary:
        verdict = "no stage failed" if summary.get("passed") else "some stages failed or ran out of time"
        lines += ["", f"{verdict}; commit `{summary.get('commit')}`, {summary.get('wall_time_sec')} s in all"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="what", required=True)
    tests = commands.add_parser("pytest")
    tests.add_argument("junit", type=Path)
    tests.add_argument("out", type=Path)
    summary = commands.add_parser("summary")
    summary.add_argument("stages", type=Path)
    summary.add_argument("out", type=Path)
    summary.add_argument("--records", type=Path, required=True)
    summary.add_argument("--mode", choices=("gpu", "rehearse"), required=True)
    for sub in (tests, summary):
        sub.add_argument("--command", required=True)
        sub.add_argument("--wall", type=float, required=True)
    rows = commands.add_parser("table")
    rows.add_argument("records", type=Path)
    args = parser.parse_args()
    if args.what == "table":
        print(table(args.records))
        return
    if args.what == "pytest":
        record = pytest_record(args.junit, args.command, args.wall)
    else:
        record = summary_record(args.stages, args.records, args.mode, args.command, args.wall)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
