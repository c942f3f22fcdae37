"""The benchmark harness end to end on the tiny shapes (CPU, eager): the record it writes, not the speeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from encoderlab.bench.cases import KINDS
from encoderlab.cli.bench import main
from encoderlab.hardware.precision import cpu_has_native_bf16


def test_tiny_bench_writes_a_record_with_both_sides_of_every_case(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    main(
        [
            "--device",
            "cpu",
            "--size",
            "tiny",
            "--no-compile",
            "--warmup",
            "0",
            "--steps",
            "1",
            "--rounds",
            "2",
            "--out",
            str(out),
        ]
    )
    record = json.loads(out.read_text())
    assert {"command", "commit", "device", "versions", "settings", "cases", "wall_time_sec"} <= record.keys()
    assert {"model", "data", "metrics"} <= record.keys()  # the shape of every results/ record
    assert record["complete"] is True  # written after every case too, with complete=false until the last
    assert all(isinstance(value, float) for value in record["metrics"].values())
    assert {f"{case['case']}/ours_over_peer" for case in record["cases"]} <= record["metrics"].keys()
    assert record["versions"]["torch"] and record["versions"]["transformers"]
    native_bf16 = cpu_has_native_bf16()  # the default precision follows the CPU
    assert record["settings"]["precision"] == ("bf16" if native_bf16 else "fp32")
    assert record["settings"]["fused_adamw"] is True
    assert sorted({case["kind"] for case in record["cases"]}) == sorted(KINDS)
    for case in record["cases"]:
        sides = {m["side"] for m in case["measurements"]}
        assert sides == {"peer", "ours"}, case["case"]
        for m in case["measurements"]:
            assert m["error"] is None and m["tokens_per_sec"] > 0 and m["params"] > 0, (case["case"], m)
            # on a CPU, MFU only where the case measured the machine's GEMM peak at its shapes (the BERT cases)
            assert (m["mfu"] is not None) == bool(case["gemm_rates"]), (case["case"], m["mfu"])
            assert len(m["round_sec_per_step"]) == 2 and m["sec_per_step"] == min(m["round_sec_per_step"])
        assert case["ratio"] > 0 and case["peer"] and case["ours"]
    table = out.with_suffix(".md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + sum(len(case["measurements"]) for case in record["cases"])
    assert {case["kind"] for case in record["cases"] if case["gemm_rates"]} == {"mlm", "classify"}


def test_unknown_case_is_refused_in_one_line() -> None:
    with pytest.raises(SystemExit, match="unknown case"):
        main(["--device", "cpu", "--size", "tiny", "--cases", "mlm,speedy"])
