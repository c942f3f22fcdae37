"""Sequence classification: texts -> label name, its probability, and every class's probability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenizers import Tokenizer

from encoderlab.inference.batching import length_sorted_batches
from encoderlab.inference.scorers import Scorer


class TextClassifier:
    def __init__(self, tokenizer: Tokenizer, label_names: Sequence[str], scorer: Scorer, pad_id: int = 0) -> None:
        self.tokenizer = tokenizer
        self.label_names = list(label_names)
        self.scorer = scorer
        self.pad_id = pad_id

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]:
        """One record per text, in order: `{"text", "label", "score", "probabilities": {name: p}, "truncated"}`."""
        encodings = self.tokenizer.encode_batch(list(texts))
        encoded = [encoding.ids for encoding in encodings]
        results: list[dict[str, Any]] = [{} for _ in texts]
        for indices, input_ids, attention_mask in length_sorted_batches(encoded, batch_size, self.pad_id):
            probabilities = self.scorer(input_ids, attention_mask).float().softmax(-1)
            for i, row in zip(indices, probabilities.tolist(), strict=True):
                best = max(range(len(row)), key=row.__getitem__)
                results[i] = {
                    "text": texts[i],
                    "label": self.label_names[best],
                    "score": round(row[best], 6),
                    "probabilities": {name: round(p, 6) for name, p in zip(self.label_names, row, strict=True)},
                    "truncated": bool(encodings[i].overflowing),
                }
        return results
