"""Every encoder that a `conf/model/*.yaml` builds keeps the contract in `encoderlab.models.contract`.

The configs are read from the YAML files (any with an `encoder`, or a seq2seq `net` holding one), shrunk by capping
their size options, and built as the tasks build them: a new encoder is picked up by adding its file and its YAML.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from encoderlab.config import CONF_DIR
from encoderlab.interop.pretrained import load_encoder_weights, save_encoder
from encoderlab.models.chars import FEATURE_JOINS
from encoderlab.models.contract import Capabilities, Encoder, fit_on_training_split
from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.vocabulary import Vocabulary
from encoderlab.optim.finetune import apply_finetune, layer_depths

VOCAB, PAD = 40, 0
# every size option a model config may set is capped at these (options not listed keep their value)
SIZE_CAPS = {
    "hidden_size": 16,
    "embedding_size": 16,
    "intermediate_size": 32,
    "num_heads": 2,
    "num_layers": 2,
    "encoder_layers": 2,
    "decoder_layers": 1,
    "decoder_hidden_size": 16,
    "max_position": 32,
    "bigram_buckets": 31,
}
SPECIAL_IDS = {"pad_id": PAD, "bos_id": 2, "eos_id": 3}


def model_configs() -> dict[str, Any]:
    configs = {}
    for path in sorted(Path(CONF_DIR, "model").glob("*.yaml")):
        cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        if "encoder" in cfg or "net" in cfg:  # word vectors (skipgram) build no encoder
            configs[path.stem] = cfg
    return configs


CONFIGS = model_configs()


def shrunk(section: dict[str, Any], **extra: Any) -> dict[str, Any]:
    small = {k: min(v, SIZE_CAPS[k]) if k in SIZE_CAPS and isinstance(v, int) else v for k, v in section.items()}
    return {**small, **extra}


def build(name: str, **extra: Any) -> tuple[nn.Module, Encoder]:
    """(the network the config builds, its encoder): a bare encoder for `encoder` configs, a seq2seq model else."""
    cfg = CONFIGS[name]
    if "encoder" in cfg:
        encoder = instantiate(shrunk(cfg["encoder"], **extra), vocab_size=VOCAB, pad_id=PAD)
        return encoder, encoder
    net = instantiate(shrunk(cfg["net"], **extra), _partial_=True)(Vocabulary(VOCAB, **SPECIAL_IDS))
    return net, net.encoder


def documents(count: int = 12, length: int = 9) -> list[list[int]]:
    return torch.randint(4, VOCAB, (count, length), generator=torch.Generator().manual_seed(0)).tolist()


def ready(name: str, **extra: Any) -> Encoder:
    """The encoder, fitted on a training split where it needs one, in eval mode."""
    torch.manual_seed(0)
    _, encoder = build(name, **extra)
    encoder.fit(documents())
    return encoder.eval()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(4, VOCAB, (3, 7), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    ids[1, 5:] = PAD
    return ids, mask


def test_the_configs_come_from_the_yaml_files() -> None:
    assert {"bert_tiny", "bilstm", "fasttext", "fasttext_tfidf", "lstm_seq2seq", "transformer_seq2seq"} <= set(CONFIGS)
    assert "skipgram" not in CONFIGS


@pytest.mark.parametrize("name", CONFIGS)
def test_encoder_satisfies_the_protocol_and_declares_its_capabilities(name: str) -> None:
    _, encoder = build(name)
    assert isinstance(encoder, Encoder)
    declared = type(encoder).capabilities  # what the pipeline reads before building
    assert isinstance(declared, Capabilities) and isinstance(encoder.capabilities, Capabilities)
    widened = [c for c in Capabilities.names() if getattr(encoder.capabilities, c) and not getattr(declared, c)]
    assert not widened, f"an instance may narrow its class's capabilities, never widen them: {widened}"
    family = CONFIGS[name].get("family", "encoder")
    assert encoder.capabilities.per_token_states == (family != "document_encoder"), family
    option = CONFIGS[name].get("encoder", CONFIGS[name].get("net"))
    assert encoder.embedding_size_key in option, "the size option word-vector errors name must be a config key"


@pytest.mark.parametrize("name", CONFIGS)
def test_output_is_hidden_size_wide_and_feeds_the_model_built_on_it(name: str) -> None:
    torch.manual_seed(0)
    net, encoder = build(name)
    encoder.fit(documents())
    net.eval()
    ids, mask = batch()
    hidden = encoder(ids, mask)
    assert hidden.shape == (*ids.shape, encoder.hidden_size)
    assert torch.isfinite(hidden).all()
    if net is encoder:
        assert SequenceClassifier(encoder, 3, pooling="mean").eval()(ids, mask).shape == (3, 3)
    else:
        assert net(ids, mask, ids[:, :4]).shape == (3, 4, VOCAB)


@pytest.mark.parametrize("name", CONFIGS)
def test_fit_counts_only_what_the_encoder_needs(name: str) -> None:
    _, encoder = build(name)
    needed = encoder.needs_fit
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    encoder.fit(documents())
    assert not encoder.needs_fit
    changed = [k for k, v in encoder.state_dict().items() if not torch.equal(v, before[k])]
    assert bool(changed) == needed, changed  # statistics land in buffers (checkpoints carry them); else a no-op


@pytest.mark.parametrize("name", CONFIGS)
def test_input_embeddings_get_set_round_trip(name: str) -> None:
    encoder = ready(name)
    table = encoder.get_input_embeddings()
    assert isinstance(table, nn.Embedding) and table.num_embeddings == VOCAB
    assert {id(p) for p in table.parameters()} <= {id(p) for p in encoder.embedding_block().parameters()}
    ids, mask = batch()
    with torch.no_grad():
        original = encoder(ids, mask)
        replacement = nn.Embedding(VOCAB, table.embedding_dim, padding_idx=table.padding_idx)
        replacement.weight.copy_(table.weight)
        encoder.set_input_embeddings(replacement)
        assert encoder.get_input_embeddings() is replacement
        torch.testing.assert_close(encoder(ids, mask), original)
        replacement.weight.add_(torch.randn_like(replacement.weight))
        assert not torch.allclose(encoder(ids, mask), original, atol=1e-4), "forward must read the new table"


@pytest.mark.parametrize("name", CONFIGS)
def test_freezing_freezes_the_embedding_block_and_the_layers_and_depths_follow_them(name: str) -> None:
    net = SequenceClassifier(ready(name).train(), 2, pooling="mean")
    encoder = net.encoder
    layers = encoder.layer_stack()
    owned = {id(p) for p in encoder.parameters()}
    frozen = {id(p) for p in encoder.embedding_block().parameters()}
    for layer in layers:
        frozen |= {id(p) for p in layer.parameters()}
    assert frozen <= owned
    apply_finetune(net, {"method": "freeze", "freeze_layers": len(layers), "freeze_embeddings": True})
    assert {id(p) for p in net.parameters() if not p.requires_grad} == frozen
    ids, mask = batch()
    net(ids, mask).sum().backward()
    assert all(p.grad is None for p in net.parameters() if id(p) in frozen)
    assert any(p.grad is not None for p in net.parameters() if id(p) not in frozen)
    if layers:
        depths = layer_depths(net)
        named = dict(net.named_parameters())
        assert all(
            depths[n] == 0 for n, p in named.items() if id(p) in {id(q) for q in encoder.embedding_block().parameters()}
        )
        for depth, layer in enumerate(layers, start=1):
            assert all(depths[n] == depth for n, p in named.items() if id(p) in {id(q) for q in layer.parameters()})
        assert depths["head.classifier.weight"] == len(layers) + 1


@pytest.mark.parametrize("name", CONFIGS)
def test_token_type_ids_matter_exactly_when_declared(name: str) -> None:
    encoder = ready(name)
    ids, mask = batch()
    types = torch.zeros_like(ids)
    types[:, 3:] = 1
    with torch.no_grad():
        changed = not torch.allclose(encoder(ids, mask, types), encoder(ids, mask, torch.zeros_like(ids)))
    assert changed == encoder.capabilities.token_type_ids


@pytest.mark.parametrize("name", CONFIGS)
def test_attention_maps_exactly_when_declared(name: str) -> None:
    encoder = ready(name)
    ids, mask = batch()
    maps = SequenceClassifier(encoder, 2, pooling="mean").eval().attention_maps(ids, mask)
    if not encoder.capabilities.attention_maps:
        assert maps == {}
        return
    assert len(maps) == len(encoder.layer_stack())
    assert all(m.shape[0] == 3 and m.shape[-2:] == (7, 7) for m in maps.values())


@pytest.mark.parametrize("name", [n for n in CONFIGS if "encoder" in CONFIGS[n]])
def test_unpad_keeps_the_outputs_exactly_when_declared(name: str) -> None:
    encoder = ready(name)
    if not encoder.capabilities.unpad:
        with pytest.raises(InstantiationException, match="unexpected keyword argument 'unpad'"):
            build(name, unpad=True)
        return
    unpadded = ready(name, unpad=True)
    unpadded.load_state_dict(encoder.state_dict())
    ids, mask = batch()
    with torch.no_grad():
        real = mask.bool()
        torch.testing.assert_close(unpadded(ids, mask)[real], encoder(ids, mask)[real], atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", [n for n in CONFIGS if "encoder" in CONFIGS[n]])
def test_input_features_join_the_embeddings_exactly_when_declared(name: str) -> None:
    encoder = ready(name)
    join = encoder.capabilities.input_features
    ids, mask = batch()
    if not join:
        with pytest.raises(InstantiationException, match="unexpected keyword argument 'feature_size'"):
            build(name, feature_size=5)
        return
    assert join in FEATURE_JOINS
    featured = ready(name, feature_size=5) if join == "concat" else encoder  # "add": the embedding width, no option
    width = 5 if join == "concat" else encoder.get_input_embeddings().embedding_dim
    features = torch.randn(3, 7, width, generator=torch.Generator().manual_seed(2))
    real = mask.bool()
    with torch.no_grad():
        out = featured(ids, mask, features=features)
        assert out.shape == (3, 7, featured.hidden_size)
        assert not torch.allclose(out[real], featured(ids, mask, features=2 * features)[real], atol=1e-4)
        at_padding = features.clone()
        at_padding[~real] = 100.0
        torch.testing.assert_close(featured(ids, mask, features=at_padding)[real], out[real], atol=1e-5, rtol=0)
        if join == "add":  # zero features are no features: a pretrained encoder starts unchanged
            torch.testing.assert_close(featured(ids, mask, features=torch.zeros_like(features)), encoder(ids, mask))


@pytest.mark.parametrize("name", CONFIGS)
def test_exportable_encoders_rebuild_from_their_config_and_write_a_folder(name: str, tmp_path: Path) -> None:
    encoder = ready(name)
    if not encoder.capabilities.exportable:
        with pytest.raises(TypeError, match="not exportable"):
            save_encoder(tmp_path, encoder, "{}")
        return
    save_encoder(tmp_path, encoder, "{}", name)
    rebuilt = type(encoder)(**asdict(encoder.config)).eval()
    assert load_encoder_weights(rebuilt, tmp_path) == (len(encoder.state_dict()), [])
    ids, mask = batch()
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(ids, mask), encoder(ids, mask))


def test_fitting_needs_a_data_module_with_the_training_split() -> None:
    _, encoder = build("fasttext_tfidf")

    class Split:
        def training_token_ids(self):
            yield from documents()

    with pytest.raises(RuntimeError, match="training_token_ids"):
        fit_on_training_split(encoder, object())
    fit_on_training_split(encoder, Split())
    assert not encoder.needs_fit


def test_unknown_capability_names_are_refused() -> None:
    assert Capabilities(exportable=True).lacks(["exportable", "unpad"]) == ["unpad"]
    with pytest.raises(ValueError, match="choose from per_token_states"):
        Capabilities().lacks(["bidirectional"])
