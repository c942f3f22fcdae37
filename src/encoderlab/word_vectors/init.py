"""`model.embeddings=<dir>`: start an encoder's token embedding from trained word vectors.

Rows of tokens the vectors cover are overwritten; every other row (and the padding row) keeps the encoder's own
initialisation. By default the vectors go in as trained (`model.embeddings_scale=raw`): on SST-2 with 1k labels a
BiLSTM from 300-d enwiki vectors reached 73.7 % as they are, 71.9 % rescaled to its init's spread (`init`) and
72.3 % at twice their size (`2.0`), mean of 3 seeds each. `init` suits encoders whose other embeddings are much
smaller (a BERT's 0.02-std position rows, summed with the token rows before the norm).
A dimension that differs from the encoder's embedding size is refused (a projection would be a new, untrained
layer in front of the vectors); so is a vector table of another vocabulary size.
"""

from __future__ import annotations

import torch
from torch import nn

from encoderlab.errors import ConfigError
from encoderlab.word_vectors.store import Embeddings


def initialise_embeddings(
    embedding: nn.Embedding,
    embeddings: Embeddings,
    where: str,
    size_key: str = "the embedding size",
    scale: str | float = "raw",
) -> int:
    """Copy the covered vectors into `embedding` as they are (`scale="raw"`), rescaled to the std of its init
    (`"init"`) or times a number; returns the number of rows set."""
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
        if scale == "init":
            factor = embedding.weight[covered].float().std() / vectors.std().clamp_min(1e-8)
        elif scale == "raw":
            factor = torch.tensor(1.0)
        elif isinstance(scale, int | float) and not isinstance(scale, bool) and scale > 0:
            factor = torch.tensor(float(scale))
        else:
            raise ConfigError(f"model.embeddings_scale={scale!r}: use init, raw or a positive number")
        embedding.weight[covered] = (vectors * factor).to(embedding.weight.dtype)
    return int(covered.sum())
