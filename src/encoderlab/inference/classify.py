"""Sequence classification: texts (or text pairs) -> label name, its probability, and every class's probability.

Texts are encoded by `data.encoding.encode` under the checkpoint's encoding spec, the function and settings the data
module trained with: the same truncation (`head_tail` keeps the end of long texts), pairs with their segment ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenizers import Tokenizer

from encoderlab.data.collate import pad_sequences
from encoderlab.data.encoding import EncodingSpec, encode
from encoderlab.inference.batching import length_sorted_batches
from encoderlab.inference.scorers import Scorer


class TextClassifier:
    def __init__(
        self,
        tokenizer: Tokenizer,
        label_names: Sequence[str],
        scorer: Scorer,
        pad_id: int = 0,
        spec: EncodingSpec | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.label_names = list(label_names)
        self.scorer = scorer
        self.pad_id = pad_id
        # None: a checkpoint from before specs were saved, encoded as it always was (head, single texts)
        self.spec = spec or EncodingSpec.of_tokenizer(tokenizer)

    def predict(
        self, texts: Sequence[str], batch_size: int = 32, text_pairs: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """One record per text, in order: `{"text", ("text_pair",) "label", "score", "probabilities": {name: p},
        "truncated"}`. A pair checkpoint needs `text_pairs`, one second text per text."""
        encoded = encode(self.tokenizer, self.spec, texts, text_pairs)  # a pair spec without pairs: one-line error
        types = encoded.token_type_ids
        results: list[dict[str, Any]] = [{} for _ in texts]
        for indices, input_ids, attention_mask in length_sorted_batches(encoded.input_ids, batch_size, self.pad_id):
            token_type_ids = None if types is None else pad_sequences([types[i] for i in indices], 0)[0]
            probabilities = self.scorer(input_ids, attention_mask, token_type_ids).float().softmax(-1)
            for i, row in zip(indices, probabilities.tolist(), strict=True):
                best = max(range(len(row)), key=row.__getitem__)
                results[i] = {
                    "text": texts[i],
                    **({"text_pair": text_pairs[i]} if text_pairs is not None else {}),
                    "label": self.label_names[best],
                    "score": round(row[best], 6),
                    "probabilities": {name: round(p, 6) for name, p in zip(self.label_names, row, strict=True)},
                    "truncated": encoded.truncated[i],
                }
        return results
