"""Linear-chain conditional random field over tag sequences (Lafferty et al. 2001; Lample et al. 2016's NER layer).

`forward` gives each sequence's negative log-likelihood; `decode` its Viterbi path. Masks are `[B, T]` with 1 at
real positions, contiguous from the start (every row has at least one).
"""

from __future__ import annotations

import torch
from torch import nn


class CRF(nn.Module):
    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))  # [from, to]

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood `[B]` of `tags` given `emissions [B, T, num_tags]`."""
        emissions = emissions.float()
        mask = mask.bool()
        return self._log_partition(emissions, mask) - self._score(emissions, tags, mask)

    def _score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        tags = tags.masked_fill(~mask, 0)
        emitted = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # [B, T]
        score = self.start_transitions[tags[:, 0]] + emitted[:, 0]
        steps = self.transitions[tags[:, :-1], tags[:, 1:]] + emitted[:, 1:]  # [B, T-1]
        score = score + (steps * mask[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return score + self.end_transitions[last]

    def _log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        alpha = self.start_transitions + emissions[:, 0]  # [B, num_tags]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The highest-scoring tag sequence `[B, T]` (0 at masked positions)."""
        emissions = emissions.float()
        mask = mask.bool()
        batch, length, _ = emissions.shape
        score = self.start_transitions + emissions[:, 0]
        backpointers = []
        for t in range(1, length):
            step, best_previous = (score.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1)).max(dim=1)
            score = torch.where(mask[:, t].unsqueeze(1), step, score)
            backpointers.append(best_previous)
        best_last = (score + self.end_transitions).argmax(dim=1)
        last_index = mask.sum(1) - 1
        path = torch.zeros(batch, length, dtype=torch.long, device=emissions.device)
        current = best_last
        for t in range(length - 1, -1, -1):
            if t < length - 1:
                # before a row's last position, step back along the pointers; at and after it, start from its best end
                previous = backpointers[t].gather(1, current.unsqueeze(1)).squeeze(1)
                current = torch.where(t < last_index, previous, best_last)
            path[:, t] = current
        return path.masked_fill(~mask, 0)
