"""Subword tokenizers trained from scratch with HF `tokenizers`, cached on disk under a key of their settings.

- `wordpiece`: BERT's layout (`[CLS] a [SEP]`), lower-cased by default; for the encoders.
- `bpe`: byte-level BPE (GPT-2's pre-tokenizer): any script, no unknown tokens, and decoding gives back the text
  exactly, which is what BLEU on detokenized output needs.
- `unigram`: SentencePiece-style unigram LM over `▁`-marked words (Metaspace). Scripts written without spaces
  (Chinese) are segmented by the learned unigram model, as SentencePiece does.
With `[EOS]` among the special tokens (seq2seq), `bpe` and `unigram` append it to every encoding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from encoderlab.data.disk_cache import load_or_build
from encoderlab.errors import ConfigError

log = logging.getLogger(__name__)

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
BOS, EOS = "[BOS]", "[EOS]"
SPECIAL_TOKENS = [PAD, UNK, CLS, SEP, MASK]  # PAD first, so pad_id == 0
SEQ2SEQ_SPECIAL_TOKENS = [PAD, UNK, BOS, EOS]


@dataclass
class TokenizerSettings:
    """Everything that changes the trained vocabulary; its hash (with the corpus fingerprint) is the cache key."""

    vocab_size: int = 16000
    min_frequency: int = 2
    lowercase: bool = True
    strip_accents: bool | None = None  # None: follow `lowercase`, as BERT does
    max_length: int = 128
    algorithm: str = "wordpiece"
    special_tokens: list[str] = field(default_factory=lambda: list(SPECIAL_TOKENS))


def train_wordpiece(texts: Iterable[str], settings: TokenizerSettings) -> Tokenizer:
    """A BERT-style WordPiece tokenizer: `[CLS] a [SEP]` (and `[CLS] a [SEP] b [SEP]` for pairs)."""
    tokenizer = Tokenizer(models.WordPiece(unk_token=UNK))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=True,
        strip_accents=settings.strip_accents,
        lowercase=settings.lowercase,
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=settings.vocab_size,
        min_frequency=settings.min_frequency,
        special_tokens=settings.special_tokens,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id(CLS), tokenizer.token_to_id(SEP)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B:1 {SEP}:1",
        special_tokens=[(CLS, cls_id), (SEP, sep_id)],
    )
    configure_truncation(tokenizer, settings.max_length)
    return tokenizer


def _normalizer(settings: TokenizerSettings) -> normalizers.Normalizer:
    steps: list[normalizers.Normalizer] = [normalizers.NFKC()]
    if settings.lowercase:
        steps.append(normalizers.Lowercase())
    return normalizers.Sequence(steps)


def _append_eos(tokenizer: Tokenizer, settings: TokenizerSettings) -> None:
    if EOS in settings.special_tokens:
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"$A {EOS}", special_tokens=[(EOS, tokenizer.token_to_id(EOS))]
        )


def train_bpe(texts: Iterable[str], settings: TokenizerSettings) -> Tokenizer:
    """Byte-level BPE: every string encodes (no `[UNK]`), and decoding restores the text exactly."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = _normalizer(settings)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=settings.vocab_size,
        min_frequency=settings.min_frequency,
        special_tokens=settings.special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    _append_eos(tokenizer, settings)
    return configure_truncation(tokenizer, settings.max_length)


def train_unigram(texts: Iterable[str], settings: TokenizerSettings) -> Tokenizer:
    """SentencePiece-style unigram LM: words marked with `▁`, segmented by the learned piece probabilities."""
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = _normalizer(settings)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=settings.vocab_size,
        special_tokens=settings.special_tokens,
        unk_token=UNK,
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    _append_eos(tokenizer, settings)
    return configure_truncation(tokenizer, settings.max_length)


TRAINERS: dict[str, Callable[[Iterable[str], TokenizerSettings], Tokenizer]] = {
    "wordpiece": train_wordpiece,
    "bpe": train_bpe,
    "unigram": train_unigram,
}


def train_tokenizer(texts: Iterable[str], settings: TokenizerSettings) -> Tokenizer:
    if settings.algorithm not in TRAINERS:
        raise ValueError(f"unknown tokenizer algorithm {settings.algorithm!r}; choose one of {', '.join(TRAINERS)}")
    return TRAINERS[settings.algorithm](texts, settings)


def configure_truncation(tokenizer: Tokenizer, max_length: int) -> Tokenizer:
    tokenizer.no_padding()  # the collator pads per batch
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def token_id(tokenizer: Tokenizer, token: str) -> int:
    """The id of a special token the data needs; a tokenizer without it (a pretrained one) can't serve the data."""
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ConfigError(f"the tokenizer has no {token} token; use one trained with it (or let the data train one)")
    return found


def cache_key(settings: TokenizerSettings, corpus_fingerprint: str) -> str:
    payload = json.dumps({"settings": asdict(settings), "corpus": corpus_fingerprint}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def files_fingerprint(paths: Iterable[str | os.PathLike]) -> str:
    """Cheap corpus identity: each file's absolute path, size and modification time."""
    parts = []
    for path in sorted(Path(p).resolve() for p in paths):
        stat = path.stat()
        parts.append(f"{path}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def load_or_train(
    cache_dir: str | os.PathLike,
    settings: TokenizerSettings,
    corpus_fingerprint: str,
    texts: Callable[[], Iterator[str]],
) -> tuple[Tokenizer, Path]:
    """Load the cached tokenizer for these settings and corpus, or train and cache it.

    A file lock makes this safe to call from every DDP rank: one trains, the others wait and load. An entry that
    doesn't load (truncated, empty, a folder in its place) is named in a warning and retrained (`disk_cache`).
    """
    path = Path(cache_dir) / "tokenizers" / cache_key(settings, corpus_fingerprint) / "tokenizer.json"

    def load(path: Path) -> Tokenizer:
        tokenizer = Tokenizer.from_file(str(path))
        log.info("Loaded cached tokenizer %s", path)
        return tokenizer

    def train() -> Tokenizer:
        log.info("Training a %s tokenizer (vocab %d) -> %s", settings.algorithm, settings.vocab_size, path)
        return train_tokenizer(texts(), settings)

    tokenizer = load_or_build(path, load, train, lambda tokenizer, tmp: tokenizer.save(tmp), "tokenizer")
    return configure_truncation(tokenizer, settings.max_length), path
