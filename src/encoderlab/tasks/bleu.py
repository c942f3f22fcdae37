"""Corpus BLEU and chrF with sacreBLEU on detokenized text, gathered across processes."""

from __future__ import annotations

import torch.distributed as dist
from sacrebleu.metrics import BLEU, CHRF

# sacreBLEU's tokenizers for target languages written without spaces; everything else uses its default, 13a.
BLEU_TOKENIZE = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}


def gather_strings(strings: list[str]) -> list[str]:
    """Every process's strings, in rank order (a no-op outside distributed runs)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return strings
    gathered: list[list[str] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, strings)
    return [s for part in gathered for s in part or []]


class CorpusScores:
    """Collects hypothesis/reference pairs over an epoch; `compute()` scores them and keeps sacreBLEU's signatures."""

    def __init__(self, tgt_lang: str) -> None:
        self.tokenize = BLEU_TOKENIZE.get(tgt_lang, "13a")
        self.hypotheses: list[str] = []
        self.references: list[str] = []
        self.signatures: dict[str, str] = {}

    def update(self, hypotheses: list[str], references: list[str]) -> None:
        self.hypotheses.extend(hypotheses)
        self.references.extend(references)

    def reset(self) -> None:
        self.hypotheses, self.references = [], []

    def compute(self, chrf: bool = False) -> dict[str, float]:
        hypotheses, references = gather_strings(self.hypotheses), gather_strings(self.references)
        if not hypotheses:
            return {}
        bleu = BLEU(tokenize=self.tokenize)
        scores = {"bleu": bleu.corpus_score(hypotheses, [references]).score}
        self.signatures["bleu"] = str(bleu.get_signature())
        if chrf:
            metric = CHRF()
            scores["chrf"] = metric.corpus_score(hypotheses, [references]).score
            self.signatures["chrf"] = str(metric.get_signature())
        return scores
