"""The benchmark cases. Each builds its batch once, then measures the peer(s) and ours on it, one after another.

`SHAPES[kind][size]` lists the shapes a kind runs at: `full` is the issue's GPU set, `small` fits a CPU in minutes,
`tiny` is the CI smoke test. Model sizes come from `conf/model/*.yaml`, so "bert_base" means the project's config.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, cast

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf

from encoderlab.bench import peers
from encoderlab.bench.flops import encoder_training_flops
from encoderlab.bench.gemm_peak import bert_training_gemms, measure_gemm_rate
from encoderlab.bench.inputs import masked_lm_batch, padded_batch, random_ids
from encoderlab.bench.measure import Measurement, measure
from encoderlab.bench.steps import Settings, inference_step, training_step
from encoderlab.bench.uncached import UncachedDecoding
from encoderlab.config import CONF_DIR
from encoderlab.models.generation import beam_search, greedy_search
from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.lstm import LSTMEncoder
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import TransformerSeq2Seq
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.models.vocabulary import Vocabulary

TINY_BERT = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64, "max_position": 64}
TINY_SEQ2SEQ = {
    "hidden_size": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "num_heads": 2,
    "intermediate_size": 64,
    "max_position": 64,
}
TINY_LSTM = {"embedding_size": 16, "hidden_size": 16}
BERT_VOCAB = 30522  # BERT's WordPiece vocabulary, so the MLM head costs what it costs in practice
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
SIZES = ("tiny", "small", "full")


def _shape(model: str | dict, vocab: int, batch: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"model": model, "vocab": vocab, "batch": batch, "length": length, **extra}


SHAPES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "mlm": {
        "tiny": [_shape(TINY_BERT, 512, 4, 32)],
        "small": [_shape("bert_small", BERT_VOCAB, 64, 128)],  # the CPU shape
        "full": [
            _shape("bert_small", BERT_VOCAB, 256, 128),
            _shape("bert_base", BERT_VOCAB, 128, 128),
            _shape("bert_base", BERT_VOCAB, 128, 512),
        ],
    },
    "classify": {
        "tiny": [_shape(TINY_BERT, 512, 4, 32)],
        "small": [_shape("bert_small", 16000, 32, 64)],  # the default model; SST-2-like lengths 16..64
        "full": [_shape("bert_base", BERT_VOCAB, 32, 128)],
    },
    "seq2seq": {
        "tiny": [_shape(TINY_SEQ2SEQ, 512, 4, 16)],
        "small": [_shape("transformer_seq2seq", 8000, 16, 32)],
        "full": [_shape("transformer_seq2seq", 16000, 128, 64)],
    },
    "lstm": {
        "tiny": [_shape(TINY_LSTM, 512, 4, 16)],
        "small": [_shape("bilstm", 16000, 32, 64)],
        "full": [_shape("bilstm", 16000, 64, 64)],
    },
    "greedy": {
        "tiny": [_shape(TINY_SEQ2SEQ, 512, 2, 8, new_tokens=8)],
        "small": [_shape("transformer_seq2seq", 8000, 8, 16, new_tokens=64)],
        "full": [_shape("transformer_seq2seq", 16000, 64, 32, new_tokens=64)],
    },
    "beam": {
        "tiny": [_shape(TINY_SEQ2SEQ, 512, 2, 8, new_tokens=8, beam_size=2)],
        "small": [_shape("transformer_seq2seq", 8000, 4, 16, new_tokens=64, beam_size=4)],
        "full": [_shape("transformer_seq2seq", 16000, 16, 32, new_tokens=64, beam_size=4)],
    },
}
KINDS = tuple(SHAPES)


@dataclass
class CaseResult:
    case: str
    kind: str
    description: str
    shape: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    gemm_rates: list[dict[str, Any]] = field(default_factory=list)  # the machine's own peak at these shapes

    def best(self, side: str) -> Measurement | None:
        valid = [m for m in self.measurements if m.side == side and m.error is None]
        return max(valid, key=lambda m: m.tokens_per_sec, default=None)

    @property
    def ratio(self) -> float | None:
        """Our best tokens/s over the best peer's (the compiled one, where compiling helps it)."""
        ours, peer = self.best("ours"), self.best("peer")
        return ours.tokens_per_sec / peer.tokens_per_sec if ours and peer else None

    def keep_fastest(self, other: CaseResult) -> CaseResult:
        """Merge another round of this case: each contender keeps its fastest round, the one least slowed by other
        load on the machine. Rounds alternate the contenders, so a slow spell hits them alike."""
        merged = []
        for mine, theirs in zip(self.measurements, other.measurements, strict=True):
            faster = theirs.error is None and (mine.error is not None or theirs.sec_per_step < mine.sec_per_step)
            best = theirs if faster else mine
            merged.append(replace(best, round_sec_per_step=mine.round_sec_per_step + theirs.round_sec_per_step))
        self.measurements = merged
        return self

    def to_dict(self) -> dict[str, Any]:
        ours, peer = self.best("ours"), self.best("peer")
        return {
            "case": self.case,
            "kind": self.kind,
            "description": self.description,
            "shape": self.shape,
            "peer": peer.name if peer else None,
            "ours": ours.name if ours else None,
            "ratio": self.ratio,
            "gemm_rates": self.gemm_rates,
            "measurements": [m.to_dict() for m in self.measurements],
        }


def model_config(model: str | dict, section: str) -> dict[str, Any]:
    """A `conf/model/<name>.yaml` block (`encoder` or `net`) as keyword arguments, or a literal dict as it is."""
    if isinstance(model, dict):
        return dict(model)
    loaded = OmegaConf.load(CONF_DIR / "model" / f"{model}.yaml")
    assert isinstance(loaded, DictConfig)  # a model config is a mapping
    block = cast(dict[str, Any], OmegaConf.to_container(loaded[section]))
    return {key: value for key, value in block.items() if not key.startswith("_")}


Build = Callable[[], tuple[Callable[[], object], int]]  # makes a contender's model: `(step, parameter count)`
Contender = tuple[str, str, bool, Build]  # name, side ("peer" or "ours"), compiled, build


def case_name(kind: str, shape: dict[str, Any]) -> str:
    model = shape["model"] if isinstance(shape["model"], str) else "tiny"
    return f"{kind}_{model}_b{shape['batch']}_t{shape['length']}"


def new_result(kind: str, shape: dict[str, Any], description: str) -> CaseResult:
    return CaseResult(case_name(kind, shape), kind, description, shape)


def compile_variants(settings: Settings) -> tuple[bool, ...]:
    return (False, True) if settings.compile else (False,)


def compile_contenders(name: str, side: str, build: Callable[[bool], Build], settings: Settings) -> list[Contender]:
    """`name` as it is and, where the settings compile, compiled."""
    return [(f"{name}{' compiled' * c}", side, c, build(c)) for c in compile_variants(settings)]


def with_measured_peak(result: CaseResult, settings: Settings, shapes: list[tuple[int, int, int]]) -> Settings:
    """Where the device has no known peak (a CPU), measure its bf16 and fp32 GEMM rates at the case's own shapes
    and credit MFU against the best bf16 one, whatever precision the contenders run in."""
    if settings.peak_flops is not None:
        return settings
    rates = [measure_gemm_rate(shapes, dtype, settings.device) for dtype in (torch.bfloat16, torch.float32)]
    result.gemm_rates = [rate.to_dict() for rate in rates]
    return replace(settings, peak_flops=rates[0].best_flops)


def encoder_flops(encoder_cfg: dict[str, Any], length: int, tokens: int) -> Callable[[int], float]:
    """The FLOPs of one training step of a BERT encoder of `params` parameters over `tokens` real tokens."""

    def flops(params: int) -> float:
        hidden, layers = encoder_cfg["hidden_size"], encoder_cfg["num_layers"]
        return encoder_training_flops(params, layers, length, hidden, tokens)

    return flops


def run_contenders(
    result: CaseResult,
    contenders: list[Contender],
    tokens_per_step: int,
    settings: Settings,
    flops_per_step: Callable[[int], float] | None = None,
) -> CaseResult:
    for name, side, compiled, build in contenders:
        torch.manual_seed(0)
        result.measurements.append(
            measure(
                name,
                side,
                compiled,
                build,
                tokens_per_step,
                settings.device,
                settings.warmup,
                settings.steps,
                flops_per_step,
                settings.peak_flops,
            )
        )
    return result


def labelled_batch(shape: dict[str, Any], settings: Settings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`(ids, mask, labels)`: lengths T/4..T padded to T, two classes."""
    batch, length, vocab = shape["batch"], shape["length"], shape["vocab"]
    generator = torch.Generator().manual_seed(0)
    ids, mask = (t.to(settings.device) for t in padded_batch(batch, length, vocab, generator, length // 4))
    labels = torch.randint(0, 2, (batch,), generator=generator).to(settings.device)
    return ids, mask, labels


def source_batch(shape: dict[str, Any], settings: Settings) -> tuple[torch.Tensor, torch.Tensor, torch.Generator]:
    """`(src, src_mask, generator)`: source lengths T/2..T padded to T; the generator draws what else a case needs."""
    generator = torch.Generator().manual_seed(0)
    batch = padded_batch(shape["batch"], shape["length"], shape["vocab"], generator, shape["length"] // 2)
    src, src_mask = (t.to(settings.device) for t in batch)
    return src, src_mask, generator


def masked_lm_case(shape: dict[str, Any], settings: Settings) -> CaseResult:
    encoder_cfg = model_config(shape["model"], "encoder")
    batch, length, vocab = shape["batch"], shape["length"], shape["vocab"]
    generator = torch.Generator().manual_seed(0)
    ids, labels = (t.to(settings.device) for t in masked_lm_batch(batch, length, vocab, generator))
    budget = math.ceil(0.2 * length)  # fixed-size gather: 20% of positions per sequence covers 15% masking's tail

    def peer_loss(run: Callable) -> torch.Tensor:
        return run(input_ids=ids, labels=labels).loss

    def our_loss(run: Callable) -> torch.Tensor:
        return run(ids, None, labels)[0]

    def build_peer(compiled: bool) -> Build:
        return lambda: training_step(peers.hf_bert_masked_lm(encoder_cfg, vocab), peer_loss, settings, "peer", compiled)

    def build_ours(compiled: bool) -> Build:
        def build() -> tuple[Callable[[], object], int]:
            model = MaskedLanguageModel(TransformerEncoder(vocab, **encoder_cfg), max_predictions_per_seq=budget)
            return training_step(model, our_loss, settings, "ours", compiled)

        return build

    contenders = compile_contenders("HF BertForMaskedLM sdpa", "peer", build_peer, settings)
    contenders += compile_contenders("encoderlab MLM", "ours", build_ours, settings)
    result = new_result(
        "mlm", shape, "BERT masked-LM training step (15% masked, packed full-length sequences, no padding)"
    )
    gemms = bert_training_gemms(
        encoder_cfg["hidden_size"], encoder_cfg["intermediate_size"], batch * length, vocab, batch * budget
    )
    settings = with_measured_peak(result, settings, gemms)
    return run_contenders(
        result, contenders, batch * length, settings, encoder_flops(encoder_cfg, length, batch * length)
    )


def classification_case(shape: dict[str, Any], settings: Settings) -> CaseResult:
    encoder_cfg = model_config(shape["model"], "encoder")
    batch, length, vocab = shape["batch"], shape["length"], shape["vocab"]
    ids, mask, labels = labelled_batch(shape, settings)

    def peer_loss(run: Callable) -> torch.Tensor:
        return run(input_ids=ids, attention_mask=mask, labels=labels).loss

    def our_loss(run: Callable) -> torch.Tensor:
        return F.cross_entropy(run(ids, mask).float(), labels)

    def build_peer(compiled: bool) -> Build:
        return lambda: training_step(
            peers.hf_bert_classifier(encoder_cfg, vocab, 2), peer_loss, settings, "peer", compiled
        )

    def build_ours(compiled: bool, unpad: bool) -> Build:
        return lambda: training_step(
            SequenceClassifier(TransformerEncoder(vocab, **{**encoder_cfg, "unpad": unpad}), 2),
            our_loss,
            settings,
            "ours",
            compiled,
        )

    contenders = compile_contenders("HF BertForSequenceClassification sdpa", "peer", build_peer, settings)
    for unpad in (False, True):
        name = f"encoderlab classifier{' unpadded' * unpad}"
        contenders += compile_contenders(name, "ours", partial(build_ours, unpad=unpad), settings)
    result = new_result("classify", shape, "classification fine-tuning step (lengths T/4..T, padded to T)")
    tokens = int(mask.sum())
    gemms = bert_training_gemms(encoder_cfg["hidden_size"], encoder_cfg["intermediate_size"], batch * length, vocab, 0)
    settings = with_measured_peak(result, settings, gemms)
    return run_contenders(result, contenders, tokens, settings, encoder_flops(encoder_cfg, length, tokens))


def seq2seq_case(shape: dict[str, Any], settings: Settings) -> CaseResult:
    net_cfg = model_config(shape["model"], "net")
    batch, length, vocab = shape["batch"], shape["length"], shape["vocab"]
    src, src_mask, generator = source_batch(shape, settings)
    tgt = random_ids(batch, length + 1, vocab, generator).to(settings.device)
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]

    def loss_of(run: Callable) -> torch.Tensor:
        return F.cross_entropy(run(src, src_mask, tgt_in).float().flatten(0, 1), tgt_out.flatten())

    def build_peer(compiled: bool) -> Build:
        return lambda: training_step(
            peers.TorchTransformerSeq2Seq(vocab, **net_cfg), loss_of, settings, "peer", compiled
        )

    def build_ours(compiled: bool) -> Build:
        return lambda: training_step(
            TransformerSeq2Seq(Vocabulary(vocab, PAD_ID, BOS_ID, EOS_ID), **net_cfg),
            loss_of,
            settings,
            "ours",
            compiled,
        )

    contenders = compile_contenders("torch.nn.Transformer", "peer", build_peer, settings)
    contenders += compile_contenders("encoderlab TransformerSeq2Seq", "ours", build_ours, settings)
    description = "Transformer seq2seq training step (sources T/2..T padded, targets T; tokens = target tokens)"
    return run_contenders(new_result("seq2seq", shape, description), contenders, batch * length, settings)


def lstm_case(shape: dict[str, Any], settings: Settings) -> CaseResult:
    encoder_cfg = model_config(shape["model"], "encoder")
    vocab = shape["vocab"]
    ids, mask, labels = labelled_batch(shape, settings)

    def loss_of(run: Callable) -> torch.Tensor:
        return F.cross_entropy(run(ids, mask).float(), labels)

    def build_peer() -> tuple[Callable[[], object], int]:
        return training_step(peers.CudnnLSTMClassifier(vocab, 2, **encoder_cfg), loss_of, settings, "peer", False)

    def build_ours() -> tuple[Callable[[], object], int]:
        encoder = LSTMEncoder(vocab, **encoder_cfg)
        model = SequenceClassifier(
            encoder, 2, pooling="max", head_dropout=encoder_cfg.get("dropout", 0.3), head_dense=False
        )
        return training_step(model, loss_of, settings, "ours", False)

    # Not compiled on either side: the recurrence is one cuDNN call either way, and packing is data-dependent.
    contenders: list[Contender] = [
        ("raw nn.LSTM (padded)", "peer", False, build_peer),
        ("encoderlab BiLSTM (padding-exact)", "ours", False, build_ours),
    ]
    description = "(Bi)LSTM classifier training step (lengths T/4..T; tokens = real tokens)"
    return run_contenders(new_result("lstm", shape, description), contenders, int(mask.sum()), settings)


def generation_case(kind: str, shape: dict[str, Any], settings: Settings) -> CaseResult:
    net_cfg = model_config(shape["model"], "net")
    new_tokens, beams = shape["new_tokens"], shape.get("beam_size", 1)
    src, src_mask, _ = source_batch(shape, settings)

    def search(model: Any) -> torch.Tensor:
        if beams > 1:
            return beam_search(model, src, src_mask, new_tokens, beams)
        return greedy_search(model, src, src_mask, new_tokens)

    def build(cached: bool) -> Build:
        def make() -> tuple[Callable[[], object], int]:
            # An untrained model may pick EOS at any step; an id no step can emit keeps every output at new_tokens.
            model = TransformerSeq2Seq(Vocabulary(shape["vocab"], PAD_ID, BOS_ID, eos_id=-1), **net_cfg)
            return inference_step(model, lambda m: search(m if cached else UncachedDecoding(m)), settings)

        return make

    contenders: list[Contender] = [
        ("encoderlab uncached", "peer", False, build(False)),
        ("encoderlab KV-cached", "ours", False, build(True)),
    ]
    search_name = f"beam search (beam {beams})" if beams > 1 else "greedy decoding"
    description = f"{search_name}, {new_tokens} output tokens: KV cache vs re-running the decoder on the prefix"
    return run_contenders(new_result(kind, shape, description), contenders, shape["batch"] * new_tokens, settings)


def run_case(kind: str, shape: dict[str, Any], settings: Settings) -> CaseResult:
    if kind == "mlm":
        return masked_lm_case(shape, settings)
    if kind == "classify":
        return classification_case(shape, settings)
    if kind == "seq2seq":
        return seq2seq_case(shape, settings)
    if kind == "lstm":
        return lstm_case(shape, settings)
    if kind in ("greedy", "beam"):
        return generation_case(kind, shape, settings)
    raise ValueError(f"unknown case {kind!r}; choose from {', '.join(KINDS)}")
