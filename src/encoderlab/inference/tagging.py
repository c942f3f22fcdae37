"""Named entities: a text is split into words, tagged word by word, and the tags are read as entity spans.

Words are split as CoNLL-2003 writes them: runs of letters and digits (joined by inner `-`, `'` or `.`, so
`Euro-sceptic` and `U.S` stay whole) and single punctuation marks. Each word is encoded as pre-tokenized input, so
the model sees exactly what it saw in training; the tag of a word's first subword is the word's tag. The score of a
tag is its softmax probability from the per-token emissions (with a CRF, the tags themselves come from Viterbi).
A model with character features gets each token's word characters from the checkpoint's character vocabulary,
through the same `encode_words` as training.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torch
from tokenizers import Tokenizer

from encoderlab.data.collate import pad_char_ids
from encoderlab.data.token_classification import encode_words
from encoderlab.inference.batching import length_sorted_batches
from encoderlab.inference.scorers import Scorer
from encoderlab.tasks.entity_f1 import entity_spans
from encoderlab.tasks.token_classification import TokenClassificationTask, gather_words

WORD = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")


def split_words(text: str) -> list[re.Match[str]]:
    return list(WORD.finditer(text))


class EntityTagger:
    def __init__(self, task: TokenClassificationTask, tokenizer: Tokenizer, scorer: Scorer) -> None:
        self.task = task.cpu()  # only its CRF (if any) and tag names are used here; the scorer runs the encoder
        self.tokenizer = tokenizer
        self.label_names = list(task.hparams["label_names"])
        self.scorer = scorer
        self.pad_id = task.hparams["pad_id"]
        self.chars = task.char_vocabulary

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]:
        """Per text: `{"text", "words", "tags", "scores", "entities": [{"type", "text", "start", "end"}]}`
        (`start`/`end`: character offsets into the text)."""
        words = [split_words(text) for text in texts]
        tokens = [[m.group() for m in w] or [""] for w in words]  # an empty text is one erased word -> [UNK]
        encoded = encode_words({"tokens": tokens, "tags": [[0] * len(t) for t in tokens]}, self.tokenizer, self.chars)
        results: list[dict[str, Any]] = [{} for _ in texts]
        for indices, input_ids, attention_mask in length_sorted_batches(encoded["input_ids"], batch_size, self.pad_id):
            positions_list = [encoded["word_positions"][i] for i in indices]
            width = max(len(p) for p in positions_list)
            positions = torch.full((len(indices), max(width, 1)), -1, dtype=torch.long)
            for row, p in enumerate(positions_list):
                positions[row, : len(p)] = torch.tensor(p, dtype=torch.long)
            char_ids = None
            if self.chars is not None:
                char_ids = pad_char_ids([encoded["char_ids"][i] for i in indices], input_ids.shape[1])
            emissions = self.scorer(input_ids, attention_mask, None, char_ids).float()
            num_words = max(len(words[i]) for i in indices)
            with torch.inference_mode():
                tag_ids = self.task.predict_words(emissions, positions, max(num_words, 1))
            word_probabilities, _ = gather_words(emissions.softmax(-1), positions)
            for row, i in enumerate(indices):
                kept = len(positions_list[row])  # words after these were truncated away: tagged O, no score
                results[i] = self._record(texts[i], words[i], tag_ids[row].tolist(), word_probabilities[row, :kept])
        return results

    def _record(self, text: str, words: list[re.Match[str]], tag_ids: list[int], probabilities: torch.Tensor) -> dict:
        tags = [self.label_names[t] for t in tag_ids[: len(words)]]
        scores = [
            round(float(probabilities[w, t]), 6) if w < probabilities.shape[0] else None
            for w, t in enumerate(tag_ids[: len(words)])
        ]
        entities = [
            {
                "type": kind,
                "text": text[words[first].start() : words[last].end()],
                "start": words[first].start(),
                "end": words[last].end(),
            }
            for kind, first, last in sorted(entity_spans(tags), key=lambda span: span[1])
        ]
        return {"text": text, "words": [m.group() for m in words], "tags": tags, "scores": scores, "entities": entities}
