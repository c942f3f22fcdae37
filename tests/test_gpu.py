"""What only a CUDA device can show: mixed precision, Flash varlen unpadding, compiled kernels, fused AdamW and
checkpoints moving between devices. Every test skips where torch sees no GPU (CI has none);
`scripts/gpu_evidence.sh` runs them on the device machine (`pytest -m gpu`)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from encoderlab.config.model_catalog import models_of_family
from encoderlab.inference.predictor import load_predictor
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.optim.schedules import param_groups
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES, separable_sentences

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

CUDA = torch.device("cuda")
# make_cfg pins trainer.accelerator=cpu after the group choice, so the GPU trainer needs both
ON_GPU = ("trainer=gpu", "trainer.accelerator=gpu", "trainer.devices=1")
SEQ2SEQ_MODELS = models_of_family(("seq2seq",))
TRAINABLE_MODELS = [*models_of_family(("encoder", "document_encoder")), *SEQ2SEQ_MODELS]  # skipgram: gensim, CPU
TINY = {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "intermediate_size": 128, "max_position": 64}


def summary_of(cfg) -> dict:
    return json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())


@pytest.mark.parametrize("model", ["bert_tiny", "bilstm"])
def test_fp16_mixed_precision_trains_on_gpu(make_cfg, model: str) -> None:
    """fp16 needs the loss scaler (bf16, below, does not)."""
    cfg = make_cfg(f"model={model}", "debug=fdr", *ON_GPU, "trainer.precision=16-mixed")
    metrics = train(cfg)
    assert math.isfinite(metrics["train/loss_epoch"])
    assert summary_of(cfg)["precision"] == "16-mixed"


@pytest.mark.parametrize("model", TRAINABLE_MODELS)
def test_every_model_takes_a_bf16_training_step_on_the_gpu(make_cfg, model: str) -> None:
    data = "multi30k" if model in SEQ2SEQ_MODELS else "sst2"
    cfg = make_cfg(
        f"model={model}", f"data={data}", *SMALL_MODEL_OVERRIDES[model], "debug=fdr", *ON_GPU,
        "trainer.precision=bf16-mixed",
    )  # fmt: skip
    metrics = train(cfg)
    summary = summary_of(cfg)
    assert summary["precision"] == "bf16-mixed" and not summary["device"].startswith("CPU"), summary["device"]
    assert summary["global_steps"] == 1
    assert math.isfinite(metrics["train/loss_epoch"])


def test_masked_lm_pretraining_takes_a_bf16_step_on_the_gpu(make_cfg, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(text for text, _ in separable_sentences(300, seed=3)) + "\n")
    cfg = make_cfg(
        "model=bert_tiny", "data=text_corpus", f"data.path={corpus}", "data.block_size=32",
        "data.validation_fraction=0.1", "task.max_predictions_per_seq=8", "debug=fdr", *ON_GPU,
    )  # fmt: skip
    metrics = train(cfg)
    assert summary_of(cfg)["precision"] == "bf16-mixed"
    assert math.isfinite(metrics["train/loss_epoch"])


def ragged_batch(vocab: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([17, 1, 9, 32, 30, 5], device=CUDA)  # one row full, one a single token
    mask = (torch.arange(32, device=CUDA)[None] < lengths[:, None]).long()
    generator = torch.Generator(device=CUDA).manual_seed(1)
    return torch.randint(1, vocab, (6, 32), device=CUDA, generator=generator) * mask, mask


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_unpadded_encoder_gives_the_padded_outputs_on_cuda(dtype: torch.dtype) -> None:
    """bf16: Flash Attention's variable-length kernel on the packed tokens; fp32: the scatter-to-SDPA route."""
    torch.manual_seed(0)
    padded = TransformerEncoder(100, **TINY).to(CUDA).eval()
    unpadded = TransformerEncoder(100, unpad=True, **TINY).to(CUDA).eval()
    unpadded.load_state_dict(padded.state_dict())
    ids, mask = ragged_batch()
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        expected, actual = padded(ids, mask).float(), unpadded(ids, mask).float()
    real = mask.bool()
    tolerance = 1e-4 if dtype == torch.float32 else 5e-2
    torch.testing.assert_close(actual[real], expected[real], atol=tolerance, rtol=tolerance)
    assert torch.all(actual[~real] == 0)


def test_the_compiled_masked_lm_step_matches_eager_on_cuda() -> None:
    torch.manual_seed(0)
    model = MaskedLanguageModel(TransformerEncoder(100, **TINY), max_predictions_per_seq=8).to(CUDA).eval()
    compiled = torch.compile(model, fullgraph=True)  # fails loudly on any graph break
    ids, _ = ragged_batch()
    labels = torch.full_like(ids, -100)
    labels[:, 3], labels[:, 7] = ids[:, 3], ids[:, 7]
    losses, grads = [], []
    for step in (model, compiled):
        model.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = step(ids, None, labels)[0]
        loss.backward()
        losses.append(loss.detach())
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    torch.testing.assert_close(losses[1], losses[0], atol=2e-2, rtol=2e-2)
    assert F.cosine_similarity(grads[0], grads[1], dim=0) > 0.99


def test_the_configured_adamw_is_fused_on_cuda_and_steps_like_the_per_tensor_loop(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny")
    torch.manual_seed(0)
    fused_net = TransformerEncoder(100, **TINY).to(CUDA).eval()  # no dropout: both nets see the same function
    loop_net = copy.deepcopy(fused_net)
    fused = instantiate({**cfg.optimizer, "_partial_": True})(params=param_groups(fused_net, 0.01))
    loop = torch.optim.AdamW(param_groups(loop_net, 0.01), lr=cfg.optimizer.lr, foreach=False, fused=False)
    assert fused.defaults["fused"] is True
    ids, mask = ragged_batch()
    for _ in range(3):
        for net, optimizer in ((fused_net, fused), (loop_net, loop)):
            optimizer.zero_grad()
            net(ids, mask).float().pow(2).mean().backward()
            optimizer.step()
    for (name, a), (_, b) in zip(fused_net.named_parameters(), loop_net.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=name)


def test_a_checkpoint_saved_on_the_gpu_loads_and_predicts_on_the_cpu(make_cfg) -> None:
    cfg = make_cfg(
        "model=bert_tiny", *ON_GPU, "trainer.max_epochs=1", "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=1", "trainer.num_sanity_val_steps=0", "test=false",
    )  # fmt: skip
    train(cfg)
    checkpoint = next((Path(cfg.paths.output_dir) / "checkpoints").glob("epoch*.ckpt"))
    saved = torch.load(checkpoint, map_location=None, weights_only=True)["state_dict"]
    assert all(t.is_cuda for t in saved.values()), "the trainer should have saved CUDA tensors"
    texts = ["a wonderful and charming film", "a dull , tedious plot", "the cast"]
    on_cpu = load_predictor(checkpoint, device="cpu").predict(texts)
    on_gpu = load_predictor(checkpoint, device="cuda").predict(texts)
    for cpu_row, gpu_row in zip(on_cpu, on_gpu, strict=True):
        assert cpu_row["label"] == gpu_row["label"]
        for name, p in cpu_row["probabilities"].items():
            assert p == pytest.approx(gpu_row["probabilities"][name], abs=1e-3)
