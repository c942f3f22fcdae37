"""Word vectors from scratch: skip-gram with negative sampling (gensim) over the project's own tokenizer vocabulary,
stored as an embeddings folder any encoder can start from (`model.embeddings=<dir>`).

May import: `data`, `hardware`, `report`, `errors`."""
