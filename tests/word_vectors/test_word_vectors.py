"""Word vectors from scratch: skip-gram through the real `train.py` config on a generated corpus, written as an
embeddings folder, then copied into every kind of encoder by `model.embeddings=<dir>`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from tokenizers import Tokenizer

from encoderlab.errors import ConfigError
from encoderlab.training.run import train
from encoderlab.word_vectors.init import initialise_embeddings
from encoderlab.word_vectors.store import Embeddings, read_embeddings, save_embeddings
from tests.conftest import ENCODER_MODELS, SMALL_MODEL_OVERRIDES, compose_train_cfg, separable_sentences

ANIMALS, TOOLS = ["cat", "dog", "horse", "sheep"], ["hammer", "saw", "drill", "wrench"]


def write_context_corpus(path: Path, lines: int = 3000, seed: int = 0) -> None:
    """Animals only ever eat and run in fields, tools only ever fix roofs in sheds."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        if rng.random() < 0.5:
            out.append(f"the {rng.choice(ANIMALS)} eats grass and runs across the green field")
        else:
            out.append(f"she takes the {rng.choice(TOOLS)} to fix the old roof of the shed")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path, cache_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("vectors")
    write_context_corpus(root / "corpus" / "text.txt")
    cfg = compose_train_cfg(
        root, tiny_data_dir, cache_dir, "model=skipgram", "data=text_corpus", f"data.path={root / 'corpus'}",
        "model.dim=16", "model.epochs=10", "model.min_count=1", "model.sample=0", "model.window=3",
        "model.workers=1", "model.neighbours=[cat,hammer]",
    )  # fmt: skip
    train(cfg)
    GlobalHydra.instance().clear()
    return root / "run"


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_words_that_share_contexts_end_up_nearer_than_words_that_never_do(trained: Path) -> None:
    embeddings = read_embeddings(trained / "embeddings")
    tokenizer = Tokenizer.from_str(embeddings.tokenizer_json)
    vector = {w: embeddings.vectors[tokenizer.token_to_id(w)] for w in ANIMALS + TOOLS}
    same = [cosine(vector[a], vector[b]) for group in (ANIMALS, TOOLS) for a in group for b in group if a < b]
    across = [cosine(vector[a], vector[t]) for a in ANIMALS for t in TOOLS]
    assert min(same) > max(across)
    summary = json.loads((trained / "summary.json").read_text())
    assert {"command", "commit", "device", "model", "data", "metrics"} <= set(summary)
    assert set(summary["neighbours"]["cat"][:3]) <= {*ANIMALS, "eats", "grass", "runs", "the"}
    assert summary["metrics"]["vectors/covered_ids"] == int(embeddings.covered.sum())


def test_special_tokens_and_unseen_ids_get_no_vector(trained: Path) -> None:
    embeddings = read_embeddings(trained / "embeddings")
    tokenizer = Tokenizer.from_str(embeddings.tokenizer_json)
    for special in ("[PAD]", "[CLS]", "[SEP]", "[MASK]"):
        assert not embeddings.covered[tokenizer.token_to_id(special)]
    assert not embeddings.vectors[~embeddings.covered].any()


def random_embeddings(vocab: int, dim: int, covered_share: float = 0.5, seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    covered = rng.random(vocab) < covered_share
    vectors = np.where(covered[:, None], rng.normal(0, 3, (vocab, dim)), 0).astype(np.float32)
    return Embeddings(vectors, covered, "{}", {"source": "test"})


def encoder_of(model: str, tmp_path: Path, tiny_data_dir: Path, cache_dir: Path, vocab: int) -> torch.nn.Module:
    cfg = compose_train_cfg(tmp_path, tiny_data_dir, cache_dir, f"model={model}", *SMALL_MODEL_OVERRIDES[model])
    GlobalHydra.instance().clear()
    return instantiate(cfg.model.encoder, vocab_size=vocab, pad_id=0)


@pytest.mark.parametrize("model", ENCODER_MODELS)
def test_loading_sets_exactly_the_covered_rows_of_every_encoder(
    model: str, tmp_path: Path, tiny_data_dir: Path, cache_dir: Path
) -> None:
    vocab = 50
    encoder = encoder_of(model, tmp_path, tiny_data_dir, cache_dir, vocab)
    embedding = encoder.get_input_embeddings()
    before = embedding.weight.detach().clone()
    source = random_embeddings(vocab, embedding.embedding_dim)
    rows = initialise_embeddings(embedding, source, "test", scale="init")
    covered = torch.from_numpy(source.covered)
    covered[0] = False  # the padding row keeps its zeros
    after = embedding.weight.detach()
    assert rows == int(covered.sum())
    assert torch.equal(after[~covered], before[~covered])
    # the covered rows point where the vectors do, at the spread of the encoder's own initialisation
    expected = torch.from_numpy(source.vectors)[covered]
    assert torch.allclose(torch.nn.functional.cosine_similarity(after[covered], expected), torch.ones(rows), atol=1e-5)
    assert after[covered].std().item() == pytest.approx(before[covered].std().item(), rel=1e-3)
    initialise_embeddings(embedding, source, "test")  # the default: as trained
    assert torch.allclose(embedding.weight.detach()[covered], expected.to(embedding.weight.dtype))
    with pytest.raises(ConfigError, match="embeddings_scale"):
        initialise_embeddings(embedding, source, "test", scale="huge")


def test_a_mismatched_vocabulary_or_dimension_is_one_line(tmp_path: Path, tiny_data_dir: Path, cache_dir: Path) -> None:
    encoder = encoder_of("bilstm", tmp_path, tiny_data_dir, cache_dir, 50)
    with pytest.raises(ConfigError, match="holds 60 vectors but the encoder has 50 tokens"):
        initialise_embeddings(encoder.get_input_embeddings(), random_embeddings(60, 32), "x")
    with pytest.raises(ConfigError, match=r"holds 16-d vectors .* 32-d; set model.encoder.embedding_size=16"):
        initialise_embeddings(
            encoder.get_input_embeddings(), random_embeddings(50, 16), "x", "model.encoder.embedding_size"
        )


def test_a_folder_that_is_not_an_embeddings_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        read_embeddings(tmp_path / "missing")
    save_embeddings(tmp_path / "run" / "embeddings", random_embeddings(10, 4))
    with pytest.raises(ConfigError, match="is a run folder; pass its embeddings folder"):
        read_embeddings(tmp_path / "run")
    (tmp_path / "run" / "embeddings" / "covered.npy").unlink()
    with pytest.raises(ConfigError, match=r"has no covered\.npy"):
        read_embeddings(tmp_path / "run" / "embeddings")


def test_a_classifier_trains_from_the_vectors_through_train_py(
    trained: Path, tmp_path: Path, tiny_data_dir: Path, cache_dir: Path
) -> None:
    """`model.embeddings=<dir>` reads the data with the vectors' tokenizer and starts from their rows."""
    embeddings = read_embeddings(trained / "embeddings")
    vocab = len(embeddings.covered)
    cfg = compose_train_cfg(
        tmp_path, tiny_data_dir, cache_dir, "model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"],
        "model.encoder.embedding_size=16", f"model.embeddings={trained / 'embeddings'}", "trainer.max_epochs=1",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "test=false",
    )  # fmt: skip
    train(cfg)
    GlobalHydra.instance().clear()
    run_tokenizer = Tokenizer.from_file(str(tmp_path / "run" / "tokenizer.json"))
    assert run_tokenizer.get_vocab_size() == vocab  # the vectors' vocabulary, not one trained on SST-2
    assert separable_sentences(1, 0)  # the tiny SST-2 the run read


def test_embeddings_and_pretrained_together_are_refused(tmp_path: Path, tiny_data_dir: Path, cache_dir: Path) -> None:
    cfg = compose_train_cfg(
        tmp_path, tiny_data_dir, cache_dir, "model=bert_tiny", f"model.embeddings={tmp_path}",
        f"model.pretrained={tmp_path}",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="keep one of them"):
        train(cfg)
    GlobalHydra.instance().clear()


def test_a_bilstm_can_freeze_its_vector_initialised_embeddings_alone(
    tmp_path: Path, tiny_data_dir: Path, cache_dir: Path
) -> None:
    """`finetune=freeze finetune.freeze_layers=0`: the small-data way to keep vectors the training set never saw."""
    from encoderlab.models.heads import SequenceClassifier
    from encoderlab.optim.finetune import apply_finetune

    net = SequenceClassifier(encoder_of("bilstm", tmp_path, tiny_data_dir, cache_dir, 50), 2)
    note = apply_finetune(net, {"method": "freeze", "freeze_layers": 0, "freeze_embeddings": True})
    frozen = {name for name, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"encoder.embeddings.weight"} and "embeddings frozen" in note
    with pytest.raises(ConfigError, match="has no layers to freeze"):
        apply_finetune(net, {"method": "freeze", "freeze_layers": 1})


def test_translation_data_refuses_vectors_in_one_line(
    trained: Path, tmp_path: Path, tiny_data_dir: Path, cache_dir: Path
) -> None:
    cfg = compose_train_cfg(
        tmp_path, tiny_data_dir, cache_dir, "model=transformer_seq2seq", "data=multi30k",
        f"model.embeddings={trained / 'embeddings'}",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="data=multi30k can't take a given tokenizer"):
        train(cfg)
    GlobalHydra.instance().clear()
