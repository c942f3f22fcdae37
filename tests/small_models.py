"""Shrink any model config to a shape that trains in seconds on a CPU, by a rule on its key names.

Adding a model YAML needs no test edit: every `_target_` section of `conf/model/<name>.yaml` (`encoder:`, `net:`, ...)
has its sizes capped by what the keys are called. A size key the rule doesn't know shows up in
`tests/test_small_models.py`, which bounds every shrunk model's parameter count.
"""

from __future__ import annotations

from typing import Any

from omegaconf import OmegaConf

from encoderlab.config import CONF_DIR

WIDTH = 32  # hidden_size, embedding_size, decoder_hidden_size, ...
INTERMEDIATE = 64
HEADS = 4
BUCKETS = 1000


def capped(key: str, value: Any) -> Any:
    """The small value for `key` (the value itself where the rule has nothing to say or it is already small)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if key.endswith(("hidden_size", "embedding_size")):
        return min(value, WIDTH)
    if key == "intermediate_size":
        return min(value, INTERMEDIATE)
    if key == "num_layers" or key.endswith("_layers"):
        return min(value, 1)
    if key == "bigram_buckets":
        return min(value, BUCKETS)
    return value


def fitting_heads(heads: int, width: int) -> int:
    """At most HEADS heads (and no more than before) that divide the shrunk width."""
    count = min(heads, HEADS)
    while width % count:
        count -= 1
    return count


def shrink_section(section: dict[str, Any], prefix: str) -> list[str]:
    overrides = []
    small = {key: capped(key, value) for key, value in section.items()}
    if isinstance(small.get("num_heads"), int) and isinstance(small.get("hidden_size"), int):
        small["num_heads"] = fitting_heads(small["num_heads"], small["hidden_size"])
    for key, value in small.items():
        if value != section[key]:
            overrides.append(f"{prefix}.{key}={value}")
    return overrides


def small_overrides(model: str) -> list[str]:
    """Hydra overrides that shrink `model=<model>` (none for a config without a network, such as word vectors)."""
    overrides = []
    config = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / f"{model}.yaml"), resolve=False)
    stack: list[tuple[dict[str, Any], str]] = [(config, "model")]
    while stack:
        node, prefix = stack.pop()
        if "_target_" in node:
            overrides += shrink_section(node, prefix)
        stack += [(value, f"{prefix}.{key}") for key, value in node.items() if isinstance(value, dict)]
    return sorted(overrides)
