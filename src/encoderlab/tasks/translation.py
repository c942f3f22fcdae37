"""Translation: any seq2seq model, teacher forcing with label-smoothed cross-entropy, token accuracy and perplexity;
BLEU with greedy decoding on validation, BLEU and chrF with beam search on test (sacreBLEU, detokenized text)."""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
from tokenizers import Tokenizer
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from encoderlab.data.translation import detokenize
from encoderlab.models.build import Seq2Seq, Vocabulary, build_network
from encoderlab.models.seq2seq import Seq2SeqModel
from encoderlab.tasks.base import Task, stage_metric
from encoderlab.tasks.bleu import CorpusScores

log = logging.getLogger(__name__)

STAGES = ("train", "val", "test")


def smoothed_nll(
    logits: torch.Tensor, target: torch.Tensor, pad_id: int, label_smoothing: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One log-softmax for both losses: `(label-smoothed loss, plain NLL, token count)` averaged over real tokens.

    Same smoothing as `F.cross_entropy(label_smoothing=eps)`: `(1 - eps) * nll + eps * mean over the vocabulary`.
    """
    log_probs = logits.float().log_softmax(-1)
    mask = target != pad_id
    tokens = mask.sum().clamp(min=1)
    nll = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    uniform = -log_probs.mean(-1)
    nll_mean = (nll * mask).sum() / tokens
    loss = (1 - label_smoothing) * nll_mean + label_smoothing * (uniform * mask).sum() / tokens
    return loss, nll_mean, tokens


class TranslationTask(Task):
    accepts = ("seq2seq",)
    kind = "translation"
    net: Seq2SeqModel

    def __init__(
        self,
        model: dict,
        vocab_size: int,
        pad_id: int,
        bos_id: int,
        eos_id: int,
        optimizer: dict,
        src_lang: str = "src",
        tgt_lang: str = "tgt",
        scheduler: dict | None = None,
        compile: bool = False,
        label_smoothing: float = 0.1,
        val_beam_size: int = 1,
        test_beam_size: int = 5,
        extra_test_beam_sizes: list[int] | None = None,
        length_penalty: float = 1.0,
        max_decode_length: int = 128,
        monitor: str = "val/bleu",
        monitor_mode: str | None = None,
    ) -> None:
        super().__init__(optimizer, scheduler, compile, monitor=monitor, monitor_mode=monitor_mode)
        config = self.save_task_hyperparameters(
            model,
            vocab_size=vocab_size,
            pad_id=pad_id,
            bos_id=bos_id,
            eos_id=eos_id,
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            label_smoothing=label_smoothing,
            val_beam_size=val_beam_size,
            test_beam_size=test_beam_size,
            extra_test_beam_sizes=list(extra_test_beam_sizes or []),
            length_penalty=length_penalty,
            max_decode_length=max_decode_length,
        )
        self.net = build_network(config, Vocabulary(vocab_size, pad_id, bos_id, eos_id), Seq2Seq())
        self.pad_id = pad_id
        self.label_smoothing = label_smoothing
        self.beam_sizes = {"val": val_beam_size, "test": test_beam_size}
        self.length_penalty = length_penalty
        self.max_decode_length = max_decode_length
        # keyed `<stage>_...`: a bare "train" key would clash with `nn.Module.train`
        self.accuracy = torch.nn.ModuleDict(
            {
                f"{stage}_acc": MulticlassAccuracy(
                    vocab_size, average="micro", ignore_index=pad_id, validate_args=False
                )
                for stage in STAGES
            }
        )
        self.nll = torch.nn.ModuleDict({f"{stage}_nll": MeanMetric() for stage in STAGES})
        # test/bleu comes from `test_beam_size`; each extra beam size logs test/bleu_beam<k> beside it; every beam
        # size logs its decoding speed (test/sentences_per_sec_beam<k>)
        self.extra_test_beams = [k for k in dict.fromkeys(extra_test_beam_sizes or []) if k != test_beam_size]
        self.scores = {stage: CorpusScores(tgt_lang) for stage in ("val", "test")}
        self.scores.update({f"test_beam{k}": CorpusScores(tgt_lang) for k in self.extra_test_beams})
        self.decode_time = {k: [0.0, 0] for k in (test_beam_size, *self.extra_test_beams)}
        self._tokenizer: Tokenizer | None = None

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            if self.tokenizer_json is None:
                raise RuntimeError("TranslationTask needs `tokenizer_json` (set by the pipeline, or from a checkpoint)")
            self._tokenizer = Tokenizer.from_str(self.tokenizer_json)
        return self._tokenizer

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.forward_net(batch["src_ids"], batch["src_mask"], batch["tgt_in_ids"])

    def translate(self, src_ids: torch.Tensor, src_mask: torch.Tensor, beam_size: int) -> list[str]:
        """Batched decoding to detokenized text."""
        max_len = min(self.max_decode_length, 2 * int(src_mask.sum(1).max()) + 10)
        ids = self.net.generate(
            src_ids, src_mask, max_len=max_len, beam_size=beam_size, length_penalty=self.length_penalty
        )
        return [detokenize(self.tokenizer, row) for row in ids.tolist()]

    def _step(self, batch: dict[str, Any], stage: str) -> torch.Tensor:
        logits = self(batch)
        target = batch["tgt_out_ids"]
        loss, nll, tokens = smoothed_nll(logits, target, self.pad_id, self.label_smoothing)
        accuracy = stage_metric(self.accuracy, f"{stage}_acc")
        accuracy.update(logits.detach().argmax(-1), target)
        stage_metric(self.nll, f"{stage}_nll").update(nll.detach(), weight=tokens)
        batch_size = target.shape[0]
        self.log(f"{stage}/loss", loss, on_step=stage == "train", on_epoch=True, prog_bar=True, batch_size=batch_size)
        self.log(f"{stage}/acc", accuracy, on_epoch=True, batch_size=batch_size)
        return loss

    def _evaluate(self, batch: dict[str, Any], stage: str) -> None:
        """Teacher-forced loss and accuracy, then decoding (greedy or beam, as the stage's beam size says) for BLEU."""
        self._step(batch, stage)
        if stage == "val":
            hypotheses = self.translate(batch["src_ids"], batch["src_mask"], self.beam_sizes[stage])
            self.scores[stage].update(hypotheses, batch["references"])
            return
        for beam in self.decode_time:
            started = time.perf_counter()
            hypotheses = self.translate(batch["src_ids"], batch["src_mask"], beam)
            self.decode_time[beam][0] += time.perf_counter() - started
            self.decode_time[beam][1] += len(hypotheses)
            self.scores[self._test_scores_key(beam)].update(hypotheses, batch["references"])

    def _log_perplexity(self, stage: str) -> None:
        nll = stage_metric(self.nll, f"{stage}_nll")
        self.log(f"{stage}/ppl", torch.exp(nll.compute()), sync_dist=True)
        nll.reset()

    def on_train_start(self) -> None:
        self.scores["val"].reset()
        stage_metric(self.nll, "val_nll").reset()

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def on_train_epoch_end(self) -> None:
        self._log_perplexity("train")

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def log_validation_epoch(self) -> None:
        self._log_perplexity("val")
        scores = self.scores["val"].compute()
        if scores:
            log.info(
                "val example: %r -> reference %r", self.scores["val"].hypotheses[0], self.scores["val"].references[0]
            )
            bleu = torch.tensor(scores["bleu"], device=self.device)
            self.log("val/bleu", bleu, prog_bar=True)
        self.scores["val"].reset()

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def _test_scores_key(self, beam: int) -> str:
        """`test` for `test_beam_size` (test/bleu), `test_beam<k>` for each extra beam size."""
        return "test" if beam == self.beam_sizes["test"] else f"test_beam{beam}"

    def on_test_start(self) -> None:
        self.decode_time = {beam: [0.0, 0] for beam in self.decode_time}

    def on_test_epoch_end(self) -> None:
        self._log_perplexity("test")
        for beam, (seconds, sentences) in self.decode_time.items():
            key = self._test_scores_key(beam)
            suffix = "" if key == "test" else f"_beam{beam}"
            for name, value in self.scores[key].compute(chrf=True).items():
                self.log(f"test/{name}{suffix}", value)
            if seconds > 0:
                self.log(f"test/sentences_per_sec_beam{beam}", sentences / seconds)
            self.scores[key].reset()
        log.info("test sacreBLEU signatures: %s", self.scores["test"].signatures)

    def run_summary(self) -> dict[str, Any]:
        return {
            "sacrebleu_signatures": self.scores["test"].signatures,
            "test_beam_size": self.beam_sizes["test"],
            "extra_test_beam_sizes": self.extra_test_beams,
            "length_penalty": self.length_penalty,
        }
