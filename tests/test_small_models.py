"""The size rule of tests/small_models.py shrinks every conf/model YAML to a network a CPU trains in seconds."""

from __future__ import annotations

import pytest

from encoderlab.config.model_catalog import check_model_fits_task
from encoderlab.errors import ConfigError
from tests.conftest import DATASETS, MODELS, SMALL_MODEL_OVERRIDES
from tests.small_models import capped, fitting_heads
from tests.task_stub import build_task

MAX_PARAMETERS = 100_000  # with the stand-in vocabulary of 100; bert_base at one full-width layer has ~7.5M


def fitting_data(make_cfg, model: str) -> str:
    for data in DATASETS:
        try:
            check_model_fits_task(make_cfg(f"model={model}", f"data={data}"))
        except ConfigError:
            continue
        return data
    raise AssertionError(f"no data set fits model={model}")


@pytest.mark.parametrize("model", MODELS)
def test_every_model_shrinks_to_a_cpu_sized_network(make_cfg, model: str) -> None:
    cfg = make_cfg(f"model={model}", f"data={fitting_data(make_cfg, model)}", *SMALL_MODEL_OVERRIDES[model])
    if cfg.model.family == "word_vectors":  # gensim's vectors: no network to shrink
        assert SMALL_MODEL_OVERRIDES[model] == []
        return
    parameters = sum(p.numel() for p in build_task(cfg).net.parameters())
    assert 0 < parameters < MAX_PARAMETERS, (
        f"model={model} shrinks only to {parameters:,} parameters: name its size keys in tests/small_models.py"
    )


def test_the_rule_caps_sizes_by_key_name_and_keeps_small_or_other_values() -> None:
    assert capped("hidden_size", 768) == 32 and capped("decoder_hidden_size", 512) == 32
    assert capped("embedding_size", 16) == 16  # already small
    assert capped("encoder_layers", 3) == 1 and capped("num_layers", 12) == 1
    assert capped("intermediate_size", 3072) == 64 and capped("bigram_buckets", 0) == 0
    assert capped("max_position", 512) == 512 and capped("bidirectional", True) is True
    assert [fitting_heads(h, 32) for h in (12, 8, 3, 2, 1)] == [4, 4, 2, 2, 1]
