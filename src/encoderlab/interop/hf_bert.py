"""Convert our BERT encoder to and from HF transformers' `BertModel` (weights, config and tokenizer).

Our `TransformerEncoder` (post-LN) is BERT's encoder with fused Q/K/V: `qkv_proj` stacks HF's query, key and value
matrices in that order. HF's pooler (`pooler.dense`) and pretraining heads (`cls.*`) have no place in an encoder and
are skipped on import; an export has no pooler, so `BertModel.from_pretrained` initialises one (and says so).
Reading and writing `model.safetensors` needs `safetensors` (`pip install 'encoderlab[hf]'`); `transformers` itself is
needed only to use the exported folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from encoderlab.data.tokenizer import CLS, MASK, PAD, SEP, UNK
from encoderlab.errors import ConfigError
from encoderlab.interop.pretrained import CONFIG_FILE, FORMAT, TOKENIZER_FILE, WEIGHTS_FILE, read_config

# (HF name, our name) for the parts that map one to one; {i} is the layer index
LAYER_NAMES = [
    ("attention.output.dense", "attention.out_proj"),
    ("attention.output.LayerNorm", "attention_norm"),
    ("intermediate.dense", "feed_forward.intermediate"),
    ("output.dense", "feed_forward.output"),
    ("output.LayerNorm", "output_norm"),
]
EMBEDDING_NAMES = [
    ("embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight"),
    ("embeddings.position_embeddings.weight", "embeddings.position_embeddings.weight"),
    ("embeddings.token_type_embeddings.weight", "embeddings.token_type_embeddings.weight"),
    ("embeddings.LayerNorm.weight", "embeddings.layer_norm.weight"),
    ("embeddings.LayerNorm.bias", "embeddings.layer_norm.bias"),
]
HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def to_hf_state_dict(state: dict[str, torch.Tensor], num_layers: int) -> dict[str, torch.Tensor]:
    """Our encoder's state_dict -> `BertModel`'s (without pooler)."""
    out = {hf: state[ours] for hf, ours in EMBEDDING_NAMES}
    for i in range(num_layers):
        hf, ours = f"encoder.layer.{i}.", f"layers.{i}."
        for suffix in ("weight", "bias"):
            q, k, v = state[f"{ours}attention.qkv_proj.{suffix}"].chunk(3, dim=0)
            for part, tensor in zip(("query", "key", "value"), (q, k, v), strict=True):
                out[f"{hf}attention.self.{part}.{suffix}"] = tensor
            for hf_name, our_name in LAYER_NAMES:
                out[f"{hf}{hf_name}.{suffix}"] = state[f"{ours}{our_name}.{suffix}"]
    return {name: tensor.contiguous().clone() for name, tensor in out.items()}


def from_hf_state_dict(state: dict[str, torch.Tensor], num_layers: int) -> dict[str, torch.Tensor]:
    """`BertModel`'s (or `BertFor*`'s, `bert.` prefix) state_dict -> our encoder's; pooler and heads are dropped."""
    state = {name.removeprefix("bert."): tensor for name, tensor in state.items()}
    state = {name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): t
             for name, t in state.items()}  # fmt: skip
    try:
        out = {ours: state[hf] for hf, ours in EMBEDDING_NAMES}
        for i in range(num_layers):
            hf, ours = f"encoder.layer.{i}.", f"layers.{i}."
            for suffix in ("weight", "bias"):
                parts = [state[f"{hf}attention.self.{p}.{suffix}"] for p in ("query", "key", "value")]
                out[f"{ours}attention.qkv_proj.{suffix}"] = torch.cat(parts, dim=0)
                for hf_name, our_name in LAYER_NAMES:
                    out[f"{ours}{our_name}.{suffix}"] = state[f"{hf}{hf_name}.{suffix}"]
    except KeyError as error:
        raise ConfigError(f"the HF checkpoint has no weight {error.args[0]}; is it a BERT model?") from None
    return {name: tensor.float().contiguous() for name, tensor in out.items()}


def hf_config(encoder: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": encoder["vocab_size"],
        "hidden_size": encoder["hidden_size"],
        "num_hidden_layers": encoder["num_layers"],
        "num_attention_heads": encoder["num_heads"],
        "intermediate_size": encoder["intermediate_size"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": encoder["dropout"],
        "attention_probs_dropout_prob": encoder["attention_dropout"],
        "max_position_embeddings": encoder["max_position"],
        "type_vocab_size": encoder["type_vocab_size"],
        "initializer_range": 0.02,
        "layer_norm_eps": encoder["layer_norm_eps"],
        "pad_token_id": encoder["pad_id"],
        "position_embedding_type": "absolute",
    }


def encoder_config(hf: dict[str, Any]) -> dict[str, Any]:
    if hf.get("model_type") != "bert":
        raise ConfigError(f"model_type={hf.get('model_type')!r}: only HF BERT checkpoints (model_type=bert) convert")
    if hf.get("hidden_act", "gelu") != "gelu" or hf.get("position_embedding_type", "absolute") != "absolute":
        raise ConfigError("only BERT with hidden_act=gelu and absolute position embeddings maps onto this encoder")
    return {
        "vocab_size": hf["vocab_size"],
        "hidden_size": hf["hidden_size"],
        "num_layers": hf["num_hidden_layers"],
        "num_heads": hf["num_attention_heads"],
        "intermediate_size": hf["intermediate_size"],
        "max_position": hf["max_position_embeddings"],
        "type_vocab_size": hf["type_vocab_size"],
        "dropout": hf.get("hidden_dropout_prob", 0.1),
        "attention_dropout": hf.get("attention_probs_dropout_prob", 0.1),
        "norm_first": False,
        "layer_norm_eps": hf.get("layer_norm_eps", 1e-12),
        "pad_id": hf.get("pad_token_id") or 0,
    }


def _safetensors():
    try:
        import safetensors.torch
    except ImportError:
        raise ConfigError("converting HF weights needs safetensors: pip install 'encoderlab[hf]'") from None
    return safetensors.torch


def read_hf_weights(directory: Path) -> dict[str, torch.Tensor]:
    if (directory / "model.safetensors").is_file():
        return _safetensors().load_file(str(directory / "model.safetensors"))
    if (directory / "pytorch_model.bin").is_file():
        return torch.load(directory / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise ConfigError(f"{directory} has no {' or '.join(HF_WEIGHTS)}; pass a folder written by save_pretrained")


def wordpiece_from_vocab(vocab_file: Path, lowercase: bool, max_length: int) -> Tokenizer:
    """The BERT tokenizer of a `vocab.txt` (for HF folders without `tokenizer.json`), laid out as ours."""
    vocab = {token: i for i, token in enumerate(vocab_file.read_text(encoding="utf-8").splitlines())}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token=UNK))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=None)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.add_special_tokens([t for t in (PAD, UNK, CLS, SEP, MASK) if t in vocab])
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B:1 {SEP}:1",
        special_tokens=[(CLS, vocab[CLS]), (SEP, vocab[SEP])],
    )
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def import_hf(hf_dir: str | Path, out_dir: str | Path) -> Path:
    """An HF BERT folder (e.g. a downloaded `bert-base-uncased`) -> an encoder folder for `model.pretrained`."""
    hf_dir, out_dir = Path(hf_dir), Path(out_dir)
    if not (hf_dir / "config.json").is_file():
        raise ConfigError(f"{hf_dir} has no config.json; pass a folder written by transformers' save_pretrained")
    config = encoder_config(json.loads((hf_dir / "config.json").read_text()))
    state = from_hf_state_dict(read_hf_weights(hf_dir), config["num_layers"])
    if (hf_dir / "tokenizer.json").is_file():
        tokenizer = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    elif (hf_dir / "vocab.txt").is_file():
        settings = {}
        if (hf_dir / "tokenizer_config.json").is_file():
            settings = json.loads((hf_dir / "tokenizer_config.json").read_text())
        tokenizer = wordpiece_from_vocab(
            hf_dir / "vocab.txt", settings.get("do_lower_case", True), config["max_position"]
        )
    else:
        raise ConfigError(f"{hf_dir} has no tokenizer.json or vocab.txt; the encoder needs its tokenizer")
    if tokenizer.get_vocab_size() != config["vocab_size"]:
        raise ConfigError(
            f"{hf_dir}: the tokenizer has {tokenizer.get_vocab_size()} tokens but the model {config['vocab_size']}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(state, out_dir / WEIGHTS_FILE)
    tokenizer.save(str(out_dir / TOKENIZER_FILE))
    ours = {"format": FORMAT, "architecture": "TransformerEncoder", "model": f"hf:{hf_dir.name}", "encoder": config}
    (out_dir / CONFIG_FILE).write_text(json.dumps(ours, indent=2) + "\n")
    return out_dir


def export_hf(encoder_dir: str | Path, out_dir: str | Path) -> Path:
    """An encoder folder (a pretraining run's `encoder/`) -> a folder `BertModel.from_pretrained` and
    `AutoTokenizer.from_pretrained` read."""
    encoder_dir, out_dir = Path(encoder_dir), Path(out_dir)
    config = read_config(encoder_dir)
    encoder = config["encoder"]
    if config["architecture"] != "TransformerEncoder" or encoder["norm_first"]:
        raise ConfigError(f"{encoder_dir} is not a post-LN Transformer encoder; only BERT's layout exports to HF")
    state = torch.load(encoder_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    _safetensors().save_file(to_hf_state_dict(state, encoder["num_layers"]), str(out_dir / "model.safetensors"))
    (out_dir / "config.json").write_text(json.dumps(hf_config(encoder), indent=2) + "\n")
    shutil.copyfile(encoder_dir / TOKENIZER_FILE, out_dir / "tokenizer.json")
    tokenizer = Tokenizer.from_file(str(encoder_dir / TOKENIZER_FILE))
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    (out_dir / "vocab.txt").write_text("".join(f"{token}\n" for token, _ in vocab), encoding="utf-8")
    lowercase = bool(json.loads(tokenizer.to_str()).get("normalizer", {}).get("lowercase", True))
    tokenizer_config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": lowercase,
        "model_max_length": encoder["max_position"],
        **{key: token for key, token in zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"),
                                            (PAD, UNK, CLS, SEP, MASK), strict=True)},
    }  # fmt: skip
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    return out_dir
