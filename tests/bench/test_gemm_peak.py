"""The CPU's own GEMM peak: the shapes a step runs, and a measured rate the bench divides by."""

from __future__ import annotations

import pytest
import torch

from encoderlab.bench.cases import SHAPES, run_case
from encoderlab.bench.gemm_peak import bert_training_gemms, linear_training_gemms, measure_gemm_rate
from encoderlab.bench.report import markdown_table
from encoderlab.bench.steps import Settings


def test_each_linear_contributes_forward_and_both_gradients() -> None:
    assert linear_training_gemms(512, [(64, 256)]) == [(512, 64, 256), (512, 256, 64), (64, 512, 256)]


def test_mlm_shapes_add_the_decoder_over_predicted_positions_only() -> None:
    classify = bert_training_gemms(64, 256, tokens=512, vocab=1000, predicted=0)
    mlm = bert_training_gemms(64, 256, tokens=512, vocab=1000, predicted=80)
    assert set(mlm) - set(classify) == {(80, 64, 1000), (80, 1000, 64), (64, 80, 1000)}
    assert (512, 64, 192) in classify  # fused QKV


def test_measured_rate_is_positive_and_the_best_of_its_shapes() -> None:
    rate = measure_gemm_rate([(64, 64, 64), (128, 128, 128)], torch.float32, torch.device("cpu"), min_seconds=0.01)
    assert set(rate.by_shape) == {"64x64x64", "128x128x128"}
    assert rate.best_flops == max(rate.by_shape.values()) > 0


def test_a_cpu_case_reports_mfu_against_its_measured_bf16_peak() -> None:
    settings = Settings(torch.device("cpu"), compile=False, warmup=1, steps=1)
    case = run_case("mlm", SHAPES["mlm"]["tiny"][0], settings).to_dict()
    assert [rate["dtype"] for rate in case["gemm_rates"]] == ["bfloat16", "float32"]
    peak = case["gemm_rates"][0]["best_tflops"] * 1e12
    for m in case["measurements"]:
        assert m["mfu"] == pytest.approx(m["flops_per_step"] / m["sec_per_step"] / peak)
    table = markdown_table({"cases": [case]})
    assert "bfloat16" in table and "TFLOP/s" in table
