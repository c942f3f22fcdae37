"""How a classification text becomes ids, written once: the spec (`EncodingSpec`) and the one function (`encode`).

The data module builds the spec from its config, encodes every split with `encode`, and the pipeline saves the spec
in each checkpoint beside the tokenizer. Inference (predict, serve, ONNX) reads both back and calls the same `encode`,
so a model is served exactly as it was trained: the same truncation (`head` or `head_tail`), the same text pairs
(with their `token_type_ids`), the same length and character caps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from tokenizers import Tokenizer

from encoderlab.data.input_checks import cap_text
from encoderlab.data.tokenizer import CLS, SEP, token_id
from encoderlab.errors import ConfigError

TRUNCATION_CHOICES = ("head", "head_tail")


@dataclass(frozen=True)
class EncodingSpec:
    """`max_length` tokens per example (special tokens included); longer texts keep their first tokens (`head`) or
    their first `head_tokens` and last tokens (`head_tail`, Sun et al. 2019). `text_pair`: examples are two texts,
    `[CLS] a [SEP] b [SEP]` with segment ids. Texts are first cut to `max_text_chars` characters (None: no cap)."""

    max_length: int
    truncation: str = "head"
    head_tokens: int | None = None
    text_pair: bool = False
    max_text_chars: int | None = None

    def __post_init__(self) -> None:
        if self.truncation not in TRUNCATION_CHOICES:
            raise ConfigError(
                f"unknown data.truncation={self.truncation!r}; choose one of {', '.join(TRUNCATION_CHOICES)}"
            )
        if self.max_length < 3:
            raise ConfigError(f"data.tokenizer.max_length={self.max_length} leaves no room for text; use 3 or more")
        if self.truncation == "head_tail" and self.text_pair:
            raise ConfigError("data.truncation=head_tail works on single texts; use truncation=head for text pairs")
        if self.max_text_chars is not None and self.max_text_chars < self.max_length:
            raise ConfigError(
                f"data.max_text_chars={self.max_text_chars} is below data.tokenizer.max_length={self.max_length}; "
                "it bounds characters read per text, so raise it (or null)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as checkpoints store it (they load with `weights_only=True`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> EncodingSpec:
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(
                f"encoding spec has unknown fields {unknown}; it was written by a newer encoderlab, so update this one"
            )
        return cls(**values)

    @classmethod
    def of_tokenizer(cls, tokenizer: Tokenizer) -> EncodingSpec:
        """What a checkpoint without a spec (written before specs existed) was served with: single texts, cut at
        the head to the tokenizer's own truncation length."""
        max_length = (tokenizer.truncation or {}).get("max_length")
        if max_length is None:
            raise ConfigError("the tokenizer has no truncation length and no encoding spec came with it")
        return cls(max_length=max_length)


@dataclass
class Encoded:
    input_ids: list[list[int]]
    truncated: list[bool]  # the example lost tokens to max_length
    token_type_ids: list[list[int]] | None = None  # text pairs only

    def columns(self) -> dict[str, list]:
        out: dict[str, list] = {"input_ids": self.input_ids, "truncated": self.truncated}
        if self.token_type_ids is not None:
            out["token_type_ids"] = self.token_type_ids
        return out


def encode(
    tokenizer: Tokenizer, spec: EncodingSpec, texts: Sequence[str], text_pairs: Sequence[str] | None = None
) -> Encoded:
    """Texts (and, for a pair spec, their second texts) -> ids as `spec` says; training and inference both call this."""
    if spec.text_pair != (text_pairs is not None):
        raise ConfigError(
            "this encoding takes text pairs: pass a second text for each text"
            if spec.text_pair
            else "this encoding takes single texts, but second texts (text pairs) were given"
        )
    keep_tail = spec.truncation == "head_tail"
    texts = [_capped(text, spec.max_text_chars, keep_tail) for text in texts]
    if spec.truncation == "head_tail":
        return encode_head_tail(texts, tokenizer, spec.max_length, spec.head_tokens)
    tokenizer = _truncating(tokenizer, spec.max_length)
    if text_pairs is None:
        encodings = tokenizer.encode_batch(texts)
    else:
        if len(text_pairs) != len(texts):
            raise ConfigError(f"{len(texts)} texts but {len(text_pairs)} second texts; give one pair per example")
        pairs = [_capped(text, spec.max_text_chars, keep_tail) for text in text_pairs]
        encodings = tokenizer.encode_batch(list(zip(texts, pairs, strict=True)))
    return Encoded(
        input_ids=[e.ids for e in encodings],
        truncated=[bool(e.overflowing) for e in encodings],
        token_type_ids=[e.type_ids for e in encodings] if text_pairs is not None else None,
    )


def encode_head_tail(
    texts: Sequence[str], tokenizer: Tokenizer, max_length: int, head_tokens: int | None = None
) -> Encoded:
    """`[CLS] first head_tokens ... last tokens [SEP]` for texts over `max_length`; shorter texts are untouched.

    `head_tokens` defaults to a quarter of the budget (128 of 510 in Sun et al. 2019's best setting).
    """
    untruncated = Tokenizer.from_str(tokenizer.to_str())
    untruncated.no_truncation()
    budget = max_length - 2  # room for [CLS] and [SEP]
    head = budget // 4 if head_tokens is None else min(head_tokens, budget)
    cls_id, sep_id = token_id(tokenizer, CLS), token_id(tokenizer, SEP)
    input_ids: list[list[int]] = []
    truncated: list[bool] = []
    for encoding in untruncated.encode_batch(list(texts), add_special_tokens=False):
        ids = encoding.ids
        if len(ids) > budget:
            ids = ids[:head] + ids[len(ids) - (budget - head) :]
        input_ids.append([cls_id, *ids, sep_id])
        truncated.append(len(encoding.ids) > budget)
    return Encoded(input_ids=input_ids, truncated=truncated)


def encode_columns(batch: dict[str, list], tokenizer: Tokenizer, spec: EncodingSpec) -> dict[str, list]:
    """`encode` for `Dataset.map`: `text` (+ `text_pair`) columns -> `input_ids` (+ `token_type_ids`), `truncated`."""
    return encode(tokenizer, spec, batch["text"], batch.get("text_pair")).columns()


def _capped(text: str | None, max_chars: int | None, keep_tail: bool) -> str:
    text = "" if text is None else text
    return text if max_chars is None else cap_text(text, max_chars, keep_tail)


def _truncating(tokenizer: Tokenizer, max_length: int) -> Tokenizer:
    """The tokenizer cutting at `max_length` (right side, longest text of a pair first): itself when it already
    does (every tokenizer the data modules build), else a copy that does."""
    wanted = {"max_length": max_length, "stride": 0, "strategy": "longest_first", "direction": "right"}
    if tokenizer.truncation == wanted:
        return tokenizer
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.enable_truncation(max_length=max_length)
    return copy
