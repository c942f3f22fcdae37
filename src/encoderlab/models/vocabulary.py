"""What a network must know of the data's tokenizer: its size and special ids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    """What the network must know of the data's tokenizer."""

    size: int
    pad_id: int = 0
    bos_id: int | None = None  # seq2seq only
    eos_id: int | None = None

    def sequence_ids(self) -> tuple[int, int]:
        """`(bos_id, eos_id)`, which a seq2seq model starts and ends its targets with."""
        if self.bos_id is None or self.eos_id is None:
            raise ValueError("a seq2seq model needs the vocabulary's bos_id and eos_id")
        return self.bos_id, self.eos_id
