"""Embeddings folders: what `experiment=pretrain_word_vectors` writes and what `model.embeddings=<dir>` reads.

```
<dir>/vectors.npy      float32 [vocab_size, dim], row i is token id i of the tokenizer (zeros where not covered)
<dir>/covered.npy      bool [vocab_size]: the rows the training gave a vector (the rest keep the encoder's init)
<dir>/tokenizer.json   the HF `tokenizers` tokenizer whose ids index the rows
<dir>/settings.json    {"format": "encoderlab-embeddings", "dim": ..., skip-gram settings, corpus, coverage}
```
Arrays are plain `.npy` read with `allow_pickle=False`: loading a folder cannot run code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from encoderlab.data.disk_cache import write_atomic
from encoderlab.errors import ConfigError

FORMAT = "encoderlab-embeddings"
VECTORS, COVERED, TOKENIZER, SETTINGS = "vectors.npy", "covered.npy", "tokenizer.json", "settings.json"


@dataclass
class Embeddings:
    vectors: np.ndarray  # float32 [V, D]
    covered: np.ndarray  # bool [V]
    tokenizer_json: str
    settings: dict[str, Any]

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def save_embeddings(directory: str | Path, embeddings: Embeddings) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    def save_array(array: np.ndarray) -> Callable[[str], None]:
        def write(tmp: str) -> None:
            with open(tmp, "wb") as handle:  # np.save(path) would append .npy to the temporary name
                np.save(handle, array, allow_pickle=False)

        return write

    write_atomic(directory / VECTORS, save_array(embeddings.vectors.astype(np.float32)))
    write_atomic(directory / COVERED, save_array(embeddings.covered.astype(bool)))
    write_atomic(directory / TOKENIZER, lambda tmp: Path(tmp).write_text(embeddings.tokenizer_json, encoding="utf-8"))
    settings = {"format": FORMAT, "dim": embeddings.dim, **embeddings.settings}
    write_atomic(directory / SETTINGS, lambda tmp: Path(tmp).write_text(json.dumps(settings, indent=2) + "\n"))
    return directory


def read_embeddings(directory: str | Path) -> Embeddings:
    """The folder's vectors, after checking it is a complete embeddings folder (one-line errors otherwise)."""
    directory = Path(directory).expanduser()
    where = f"model.embeddings={directory}"
    if not directory.is_dir():
        raise ConfigError(f"{where}: no such directory; pass the `embeddings/` folder a word-vector run wrote")
    if not (directory / SETTINGS).is_file() and (directory / "embeddings" / SETTINGS).is_file():
        raise ConfigError(
            f"{where} is a run folder; pass its embeddings folder: model.embeddings={directory / 'embeddings'}"
        )
    for name in (SETTINGS, VECTORS, COVERED, TOKENIZER):
        if not (directory / name).is_file():
            raise ConfigError(f"{where} has no {name}; it is not (or not a complete) embeddings folder")
    settings = json.loads((directory / SETTINGS).read_text())
    if settings.get("format") != FORMAT:
        raise ConfigError(f"{where}: {SETTINGS} is not an encoderlab embeddings file (no format={FORMAT!r})")
    try:
        vectors = np.load(directory / VECTORS, allow_pickle=False)
        covered = np.load(directory / COVERED, allow_pickle=False)
    except ValueError as error:
        raise ConfigError(f"{where}: {VECTORS} or {COVERED} can't be read ({error}); write the folder again") from None
    if vectors.ndim != 2 or covered.shape != (len(vectors),):
        raise ConfigError(
            f"{where}: {VECTORS} {vectors.shape} and {COVERED} {covered.shape} disagree; write the folder again"
        )
    tokenizer_json = (directory / TOKENIZER).read_text(encoding="utf-8")
    return Embeddings(vectors.astype(np.float32, copy=False), covered.astype(bool), tokenizer_json, settings)
