"""LightningDataModules and tokenization (HF tokenizers + datasets). Never builds a model."""
