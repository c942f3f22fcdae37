"""`scripts/gpu_evidence.sh --rehearse`: every stage of the GPU evidence at tiny sizes on the CPU, so the script
can't rot between the sessions that get a GPU. It must pass each stage, write a record of the shape of every
results/ record per stage into its OUT, return at most 8 files there (what the device machine sends back) and
write nothing into results/."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import ModuleType

import pytest

from encoderlab.report import provenance
from tests.conftest import ROOT, SHARED_DATA, offline_env, write_lines

SCRIPT = ROOT / "scripts" / "gpu_evidence.sh"
STAGES = [
    "data",
    "install",
    "imports",
    "gpu_tests",
    "bench_full_eager",
    "bench_full_compiled",
    "pretrain_bert_small_enwiki",
    "sst2_bert_small_pretrained",
    "multi30k_transformer_seq2seq",
]
RECORDS = [name for name in STAGES if name not in ("data", "install", "imports")]
REQUIRED = {"command", "commit", "device", "model", "data", "metrics"}


def source_data() -> Path | None:
    return next((d for d in (ROOT / "data", SHARED_DATA) if (d / "enwiki" / "train.txt.gz").is_file()), None)


def tree_state(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = source_data()
    if data is None:
        pytest.skip("no enwiki/train.txt.gz in ./data or ../shared/data (make data)")
    tmp = tmp_path_factory.mktemp("rehearsal")
    results_before = tree_state(ROOT / "results")
    env = {
        **offline_env(),
        "OUT": str(tmp / "out"),
        "TMPDIR": str(tmp),
        "PYTHON": sys.executable,
        "SOURCE_DATA": str(data),
        "PACK": str(tmp / "no-pack"),  # the wheels are the device's business; CI has none
    }
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(SCRIPT), "--rehearse"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    return {
        "done": done,
        "out": tmp / "out",
        "wall": time.perf_counter() - started,
        "results_changed": tree_state(ROOT / "results") != results_before,
    }


@pytest.mark.rehearsal
def test_every_stage_passes_and_the_summary_says_so(rehearsal: dict) -> None:
    done, out = rehearsal["done"], rehearsal["out"]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary.keys() >= REQUIRED and summary["mode"] == "rehearse"
    assert [stage["name"] for stage in summary["stages"]] == STAGES
    statuses = {stage["name"]: stage["status"] for stage in summary["stages"]}
    assert statuses.pop("install") == "skipped"  # no wheel pack here
    assert set(statuses.values()) == {"passed"}, statuses
    assert all(stage["wall_sec"] < stage["limit_sec"] for stage in summary["stages"] if stage["status"] == "passed")
    assert summary["metrics"]["pretrain_bert_small_enwiki/stage_passed"] == 1.0
    assert summary["metrics"]["gpu_tests/skipped"] > 10  # the records' figures, next to the stage outcomes
    assert "| multi30k_transformer_seq2seq |" in done.stdout  # the results table is printed at the end


@pytest.mark.rehearsal
def test_each_stage_leaves_a_record_of_the_results_shape(rehearsal: dict) -> None:
    out = rehearsal["out"]
    records = {name: json.loads((out / f"{name}.json").read_text()) for name in RECORDS}
    for name, record in records.items():
        assert record.keys() >= REQUIRED, name
        assert record["metrics"] and all(isinstance(v, int | float) for v in record["metrics"].values()), name
        assert record["commit"] != "unknown" and record["device"].startswith("CPU"), name
    assert records["gpu_tests"]["metrics"]["skipped"] > 10  # collected, and each skips cleanly without CUDA
    assert records["gpu_tests"]["metrics"]["failed"] == records["gpu_tests"]["metrics"]["error"] == 0
    assert records["bench_full_eager"]["complete"] and records["bench_full_eager"]["size"] == "tiny"
    assert {case["kind"] for case in records["bench_full_compiled"]["cases"]} == {"mlm"}
    pretrain = records["pretrain_bert_small_enwiki"]
    assert pretrain["data"] == "enwiki" and "test/loss" in pretrain["metrics"] and pretrain["encoder_dir"]
    assert "model.pretrained=" in records["sst2_bert_small_pretrained"]["command"]
    assert "test/acc" in records["sst2_bert_small_pretrained"]["metrics"]
    translation = records["multi30k_transformer_seq2seq"]
    assert "test/bleu" in translation["metrics"] and translation["test_beam_size"] == 5
    assert translation["sacrebleu_signatures"]["bleu"].startswith("nrefs:1|")


@pytest.mark.rehearsal
def test_it_returns_at_most_8_files_and_writes_nothing_into_results(rehearsal: dict) -> None:
    out = rehearsal["out"]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8 and "logs.tar.gz" in files, files
    with tarfile.open(out / "logs.tar.gz") as logs:
        names = logs.getnames()
    assert {f"{name}.log" for name in STAGES if name != "install"} <= set(names)
    assert not rehearsal["results_changed"]
    # sized for about 2 minutes on 2 CI cores; far more means a stage is no longer tiny
    assert rehearsal["wall"] < 300, f"the rehearsal took {rehearsal['wall']:.0f} s"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_data_subset_keeps_whole_articles_aligned_lines_and_the_header(tmp_path: Path) -> None:
    subset = load_script("gpu_data_subset")
    src, dst = tmp_path / "src", tmp_path / "dst"
    article = ["Title {}.", "A paragraph of article {} " + "word " * 40, ""]  # an empty line ends an article
    write_lines(src / "enwiki" / "train.txt.gz", [line.format(i) for i in range(50) for line in article])
    for folder, names in subset.COPIED.items():
        for name in names:
            header = ["sentence\tlabel"] if name.endswith(".tsv.gz") else []
            write_lines(src / folder / name, header + [f"{name} line {i}" for i in range(30)])
    subset.main([str(src), str(dst), "--enwiki-mb", "0.001", "--max-lines", "5"])
    enwiki = list(subset.read(dst / "enwiki" / "train.txt.gz"))
    assert enwiki == [line.format(i) + "\n" for i in range(len(enwiki) // 3) for line in article]  # whole articles
    assert sum(len(line) for line in enwiki) >= 1000 > sum(len(line) for line in enwiki[:-3])
    sst2 = list(subset.read(dst / "sst2" / "train.tsv.gz"))
    assert sst2[0] == "sentence\tlabel\n" and len(sst2) == 6
    assert len(list(subset.read(dst / "multi30k" / "val.de.gz"))) == 5


def test_the_data_subset_names_a_missing_file_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"enwiki/train\.txt\.gz, .* not found; run `make data`") as info:
        load_script("gpu_data_subset").main([str(tmp_path), str(tmp_path / "dst")])
    assert "\n" not in str(info.value)


def test_outside_a_git_checkout_the_commit_comes_from_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args, **kwargs):
        raise OSError("git: not found")

    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    monkeypatch.setenv("ENCODERLAB_COMMIT", "0123abc")
    assert provenance.git_commit() == "0123abc"
    monkeypatch.delenv("ENCODERLAB_COMMIT")
    assert provenance.git_commit() == "unknown"
