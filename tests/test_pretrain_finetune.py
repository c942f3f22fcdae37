"""The seeds' core path through the real pipeline: masked-LM pretraining on a folder of text, then fine-tuning that
encoder (fully, partly frozen, as a linear probe, with LoRA) on SST-2. Tiny models, tiny data, real Trainer."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from tokenizers import Tokenizer

from encoderlab.errors import ConfigError
from encoderlab.interop.pretrained import load_encoder_weights, read_config
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.tasks.classification import ClassificationTask
from encoderlab.training.run import train
from tests.conftest import compose_train_cfg, separable_sentences, toy_parallel_sentences

FAST = ["trainer.num_sanity_val_steps=0", "callbacks.early_stopping=null"]


def write_corpus(folder: Path) -> None:
    """Plain and gzip text files; SST-2's words are in it, so fine-tuning meets no unknown word."""
    folder.mkdir(parents=True)
    sentences = [text for text, _ in separable_sentences(400, seed=5)]
    english = toy_parallel_sentences(400, seed=6)["en"]
    (folder / "reviews.txt").write_text("\n".join(sentences[:200]) + "\n\n" + "\n".join(sentences[200:]) + "\n")
    (folder / "toy.txt").write_text("\n".join(english) + "\n")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path, cache_dir: Path) -> dict:
    root = tmp_path_factory.mktemp("pretrain")
    write_corpus(root / "corpus")
    cfg = compose_train_cfg(
        root, tiny_data_dir, cache_dir, "data=text_corpus", f"data.path={root / 'corpus'}", "data.block_size=32",
        "data.validation_fraction=0.1", "model=bert_tiny", "model.lr=2e-3", "trainer.max_epochs=12", *FAST,
    )  # fmt: skip
    metrics = train(cfg)
    GlobalHydra.instance().clear()
    return {"metrics": metrics, "dir": root / "run" / "encoder"}


def test_pretraining_lowers_the_masked_lm_loss_and_writes_encoder_and_tokenizer(pretrained: dict) -> None:
    metrics, directory = pretrained["metrics"], pretrained["dir"]
    vocab_size = read_config(directory)["encoder"]["vocab_size"]
    # an untrained model predicts uniformly: loss ln(V) (5.3 here); a trained one beats that by nats
    assert metrics["val/loss"] < math.log(vocab_size) - 2
    assert metrics["test/ppl"] == pytest.approx(math.exp(metrics["test/loss"]), rel=1e-4)
    assert metrics["test/acc"] > 20 / vocab_size
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "encoder.pt", "tokenizer.json"]


def encoder_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    return {k.removeprefix("net.encoder."): v for k, v in state.items() if k.startswith("net.encoder.")}


def finetune(make_cfg, directory: Path, *overrides: str) -> tuple[dict, Path]:
    cfg = make_cfg(
        "model=bert_tiny", f"model.pretrained={directory}", "trainer.max_epochs=1", "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=1", "trainer.limit_test_batches=1", *FAST, *overrides,
    )  # fmt: skip
    metrics = train(cfg)
    return metrics, Path(cfg.paths.output_dir)


@pytest.mark.parametrize(
    ("overrides", "frozen"),
    [
        (["finetune=full", "finetune.layer_lr_decay=0.5"], ()),
        (["finetune=freeze", "finetune.freeze_layers=1"], ("embeddings.", "layers.0.")),
        (["finetune=linear_probe"], ("embeddings.", "layers.0.", "layers.1.")),
    ],
)
def test_finetuning_loads_every_pretrained_weight_and_trains_only_what_it_should(
    make_cfg, pretrained: dict, overrides: list[str], frozen: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    directory = pretrained["dir"]
    method = overrides[0]
    with caplog.at_level("INFO", logger="encoderlab.training.run"):
        _, run_dir = finetune(make_cfg, directory, *overrides)
    saved = torch.load(directory / "encoder.pt", weights_only=True)
    assert f"Loaded {len(saved)} pretrained encoder weights" in caplog.text
    vocab = [Tokenizer.from_file(str(d / "tokenizer.json")).get_vocab() for d in (run_dir, directory)]
    assert vocab[0] == vocab[1], "the pretrained tokenizer, not a retrained one"
    after = encoder_state(run_dir / "checkpoints" / "last.ckpt")
    assert after.keys() == saved.keys()
    for name, tensor in saved.items():
        unchanged = torch.equal(after[name], tensor)
        if name.startswith(frozen):
            assert unchanged, f"{method}: frozen {name} changed"
        elif name.endswith(".weight") and "norm" not in name and name != "embeddings.token_type_embeddings.weight":
            assert not unchanged, f"{method}: trainable {name} did not train"


def test_lora_trains_only_adapters_and_the_merged_export_gives_identical_outputs(make_cfg, pretrained: dict) -> None:
    directory = pretrained["dir"]
    _, run_dir = finetune(make_cfg, directory, "finetune=lora", "finetune.rank=4", "export_encoder=true")
    saved = torch.load(directory / "encoder.pt", weights_only=True)
    after = encoder_state(run_dir / "checkpoints" / "last.ckpt")
    adapters = {k for k in after if ".lora_" in k}
    assert len(adapters) == 2 * 2 * 2  # A and B, on qkv_proj and out_proj, in 2 layers
    assert all(torch.equal(after[k], v) for k, v in saved.items()), "LoRA changed a pretrained weight"
    assert all(after[k].abs().sum() > 0 for k in adapters if k.endswith("lora_B")), "adapters trained"

    task = ClassificationTask.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu")
    merged = TransformerEncoder(**read_config(run_dir / "encoder")["encoder"])
    load_encoder_weights(merged, run_dir / "encoder")
    assert not torch.equal(
        merged.state_dict()["layers.0.attention.qkv_proj.weight"], saved["layers.0.attention.qkv_proj.weight"]
    )
    ids = torch.randint(5, 100, (3, 10))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    with torch.no_grad():
        expected = task.net.encoder.eval()(ids, mask)
        got = merged.eval()(ids, mask)
    torch.testing.assert_close(got[mask.bool()], expected[mask.bool()], atol=1e-5, rtol=1e-5)


def test_bad_pretrained_dirs_stop_with_one_line(make_cfg, pretrained: dict, tmp_path: Path) -> None:
    directory = pretrained["dir"]
    with pytest.raises(ConfigError, match="no such directory"):
        train(make_cfg("model=bert_tiny", f"model.pretrained={tmp_path / 'missing'}"))
    with pytest.raises(ConfigError, match=r"hidden_size=128 \(model has 256\)"):
        train(make_cfg("model=bert_mini", f"model.pretrained={directory}"))
    incomplete = tmp_path / "incomplete"
    shutil.copytree(directory, incomplete)
    (incomplete / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match=r"has no tokenizer\.json"):
        train(make_cfg("model=bert_tiny", f"model.pretrained={incomplete}"))
    with pytest.raises(ConfigError, match="is a run folder"):
        train(make_cfg("model=bert_tiny", f"model.pretrained={directory.parent}"))


@pytest.mark.parametrize("size", ["tiny", "mini", "small"])
def test_pretraining_experiments_compose_for_one_gpu(make_cfg, size: str) -> None:
    cfg = make_cfg(f"experiment=pretrain_bert_{size}")
    assert (cfg.model.name, cfg.data.name, cfg.task._target_) == (
        f"bert_{size}",
        "enwiki",
        "encoderlab.tasks.masked_lm.MaskedLMTask",
    )
    assert cfg.trainer.precision == "bf16-mixed" and cfg.trainer.max_time == "00:00:28:00"
    assert cfg.trainer.min_epochs is None, "max_time must be able to stop (and checkpoint) inside the first epoch"
    assert cfg.trainer.max_steps % cfg.trainer.val_check_interval == 0, "the last step is validated and checkpointed"
    assert cfg.optimized_metric == "val/loss_best" and cfg.callbacks.early_stopping is None
