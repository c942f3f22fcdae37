"""LightningDataModules and tokenization (HF tokenizers + datasets): one base (`datamodule_base`), one module per
data set, and `encoding`, the one function that turns text into inputs for training and inference alike.

May import: `models` (encoder statistics fitted on training data), `errors`. Never builds a model."""
