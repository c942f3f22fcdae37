"""Batched greedy and beam search over any model with the seq2seq decoding interface (`Seq2SeqModel`).

Beam search keeps `beam_size` hypotheses per sentence in one flat batch of `B * beam_size` rows; after each step
the decoder state follows the surviving beams (`model.reorder_state`). A finished hypothesis stays in its slot and
only extends with padding at no cost, so it keeps competing on its score. The search stops once every hypothesis
has ended (or at `max_len`); the winner maximises `score / length ** length_penalty` (fairseq's normalisation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from encoderlab.models.seq2seq import Seq2SeqModel


def next_token_log_probs(logits: torch.Tensor, finished: torch.Tensor, pad_id: int, bos_id: int) -> torch.Tensor:
    """Log-probabilities for the next token: running rows may not emit padding or BOS; finished rows emit only
    padding, with log-probability 0 (their score stays as it was)."""
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    log_probs[:, [pad_id, bos_id]] = float("-inf")
    padding_only = torch.full_like(log_probs, float("-inf"))
    padding_only[:, pad_id] = 0.0
    return torch.where(finished.unsqueeze(-1), padding_only, log_probs)


@torch.no_grad()
def greedy_search(model: Seq2SeqModel, src_ids: torch.Tensor, src_mask: torch.Tensor, max_len: int) -> torch.Tensor:
    """`[B, S]` sources -> `[B, L]` generated ids (no BOS; EOS then padding once a sentence ends)."""
    memory = model.encode(src_ids, src_mask)
    state = model.init_state(memory, src_mask)
    last = torch.full((src_ids.shape[0],), model.bos_id, dtype=torch.long, device=src_ids.device)
    finished = torch.zeros_like(last, dtype=torch.bool)
    generated = []
    for _ in range(max_len):
        logits, state = model.step(last, state, memory, src_mask)
        last = next_token_log_probs(logits, finished, model.pad_id, model.bos_id).argmax(-1)
        generated.append(last)
        finished = finished | (last == model.eos_id)
        if finished.all():
            break
    return torch.stack(generated, dim=1)


@torch.no_grad()
def beam_search(
    model: Seq2SeqModel,
    src_ids: torch.Tensor,
    src_mask: torch.Tensor,
    max_len: int,
    beam_size: int = 5,
    length_penalty: float = 1.0,
) -> torch.Tensor:
    """`[B, S]` sources -> `[B, L]` best hypothesis per sentence (no BOS; EOS then padding)."""
    batch, beams, device = src_ids.shape[0], beam_size, src_ids.device
    src_mask = src_mask.repeat_interleave(beams, dim=0)
    memory = model.encode(src_ids.repeat_interleave(beams, dim=0), src_mask)
    state = model.init_state(memory, src_mask)

    scores = torch.zeros(batch, beams, device=device)
    scores[:, 1:] = float("-inf")  # all beams start identical: let only the first one expand at step 0
    last = torch.full((batch * beams,), model.bos_id, dtype=torch.long, device=device)
    finished = torch.zeros_like(last, dtype=torch.bool)
    history = torch.empty(batch * beams, 0, dtype=torch.long, device=device)
    row_offsets = torch.arange(batch, device=device).unsqueeze(1) * beams
    for _ in range(max_len):
        logits, state = model.step(last, state, memory, src_mask)
        log_probs = next_token_log_probs(logits, finished, model.pad_id, model.bos_id)
        vocab = log_probs.shape[-1]
        candidates = (scores.view(-1, 1) + log_probs).view(batch, beams * vocab)
        scores, flat_choice = candidates.topk(beams, dim=1)
        origin = (row_offsets + flat_choice // vocab).view(-1)  # which row each surviving beam extends
        last = (flat_choice % vocab).view(-1)
        history = torch.cat([history[origin], last.unsqueeze(1)], dim=1)
        finished = finished[origin] | (last == model.eos_id)
        state = model.reorder_state(state, origin)
        if finished.all():
            break
    lengths = (history != model.pad_id).sum(1).clamp(min=1).view(batch, beams).float()
    best = (scores / lengths**length_penalty).argmax(dim=1)
    return history.view(batch, beams, -1)[torch.arange(batch, device=device), best]
