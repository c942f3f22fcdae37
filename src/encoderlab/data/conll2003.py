"""CoNLL-2003 English NER (PER, LOC, ORG, MISC): the original column files (IOB1, converted to IOB2 here) from the
data directory, else the HF hub copy (already IOB2)."""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset

from encoderlab.data.conll_format import iob1_to_iob2, read_conll
from encoderlab.data.sources import local_or_hub
from encoderlab.data.token_classification import TokenClassificationDataModule
from encoderlab.data.tokenizer import files_fingerprint

HUB_ID = "eriktks/conll2003"
TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]  # the hub's order
FILES = {"train": "train.txt.gz", "validation": "valid.txt.gz", "test": "test.txt.gz"}


class CoNLL2003DataModule(TokenClassificationDataModule):
    def __init__(self, label_names: list[str] | None = None, **kwargs) -> None:
        super().__init__(label_names=label_names or TAGS, **kwargs)

    def local_files(self) -> dict[str, Path]:
        return {split: self.data_dir / "conll2003" / name for split, name in FILES.items()}

    def corpus_fingerprint(self) -> str:
        train = self.local_files()["train"]
        return files_fingerprint([train]) if train.exists() else HUB_ID

    def read_splits(self) -> DatasetDict:
        return local_or_hub("CoNLL-2003", self.local_files(), self._read_local, self._read_hub, HUB_ID)

    def _read_local(self, files: dict[str, Path]) -> DatasetDict:
        splits = {}
        for split, path in files.items():
            sentences = read_conll(path)
            splits[split] = Dataset.from_dict(
                {
                    "tokens": [tokens for tokens, _ in sentences],
                    "tags": [self.tag_ids(iob1_to_iob2(tags), str(path)) for _, tags in sentences],
                }
            )
        return DatasetDict(splits)

    def _read_hub(self) -> DatasetDict:
        splits = load_dataset(HUB_ID, cache_dir=str(self.cache_dir / "datasets"))
        out = {}
        for split in ("train", "validation", "test"):
            names = splits[split].features["ner_tags"].feature.names
            out[split] = Dataset.from_dict(
                {
                    "tokens": splits[split]["tokens"],
                    "tags": [
                        self.tag_ids([names[t] for t in tags], f"{HUB_ID} {split}")
                        for tags in splits[split]["ner_tags"]
                    ],
                }
            )
        return DatasetDict(out)
