"""`debug=profile` profiles real training steps of the real pipeline and ranks the operators."""

from __future__ import annotations

import json
from pathlib import Path

from encoderlab.training.run import train


def test_debug_profile_writes_ranked_operators(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "debug=profile", "callbacks.profile.skip=1", "callbacks.profile.steps=2")
    train(cfg)
    record = json.loads((Path(cfg.paths.output_dir) / "profile.json").read_text())
    operators = record["top_operators"]
    assert record["profiled_steps"] == 2 and operators
    shares = [op["share"] for op in operators]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1 + 1e-9
    assert any(op["name"].startswith("aten::") for op in operators)
    assert (Path(cfg.paths.output_dir) / "profile.txt").read_text().strip()
