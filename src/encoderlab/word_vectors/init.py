"""`model.embeddings=<dir>`: start an encoder's token embedding from trained word vectors.

Rows of tokens the vectors cover are overwritten; every other row (and the padding row) keeps the encoder's own
initialisation. The vectors are rescaled to the spread of that initialisation: skip-gram vectors are several
times larger than a BERT's 0.02-std rows, and unscaled they would drown the position embeddings they are summed
with and saturate an LSTM's gates in the first steps. The directions, which carry what the vectors learnt, stay.
A dimension that differs from the encoder's embedding size is refused (a projection would be a new, untrained
layer in front of the vectors); so is a vector table of another vocabulary size.
"""

from __future__ import annotations

import torch
from torch import nn

from encoderlab.errors import ConfigError
from encoderlab.word_vectors.store import Embeddings


def initialise_embeddings(
    embedding: nn.Embedding, embeddings: Embeddings, where: str, size_key: str = "the embedding size"
) -> int:
    """Copy the covered vectors into `embedding` (rescaled to its init's std); returns the number of rows set."""
    rows, dim = embedding.weight.shape
    if embeddings.vectors.shape[0] != rows:
        raise ConfigError(
            f"model.embeddings={where} holds {embeddings.vectors.shape[0]} vectors but the encoder has {rows} "
            "tokens; the data must use the tokenizer in that folder (it does unless data.tokenizer_path is set)"
        )
    if embeddings.dim != dim:
        raise ConfigError(
            f"model.embeddings={where} holds {embeddings.dim}-d vectors but the encoder embeds in {dim}-d; set "
            f"{size_key}={embeddings.dim} or train vectors with model.dim={dim}"
        )
    covered = torch.from_numpy(embeddings.covered).clone()
    if embedding.padding_idx is not None:
        covered[embedding.padding_idx] = False
    if not bool(covered.any()):
        return 0
    vectors = torch.from_numpy(embeddings.vectors)[covered]
    with torch.no_grad():
        init_std = embedding.weight[covered].float().std()
        scale = init_std / vectors.std().clamp_min(1e-8)
        embedding.weight[covered] = (vectors * scale).to(embedding.weight.dtype)
    return int(covered.sum())
