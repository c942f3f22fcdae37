"""SST-2 (GLUE): binary sentiment of movie-review sentences and phrases.

GLUE hides the test labels, so the `test` split here is the validation split (872 sentences): `test/acc` and
`val/acc` are measured on the same data.
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset

from encoderlab.data.classification import TextClassificationDataModule
from encoderlab.data.sources import local_or_hub
from encoderlab.data.table_format import read_columns
from encoderlab.data.tokenizer import files_fingerprint
from encoderlab.errors import UserError

HUB_ID = "stanfordnlp/sst2"
COLUMNS = ("sentence", "label")


class SST2DataModule(TextClassificationDataModule):
    def __init__(self, label_names: list[str] | None = None, **kwargs) -> None:
        super().__init__(label_names=label_names or ["negative", "positive"], **kwargs)

    def local_files(self) -> dict[str, Path]:
        folder = self.data_dir / "sst2"
        return {"train": folder / "train.tsv.gz", "validation": folder / "validation.tsv.gz"}

    def corpus_fingerprint(self) -> str:
        files = self.local_files()
        if files["train"].exists():
            return files_fingerprint([files["train"]])
        return HUB_ID

    def read_splits(self) -> DatasetDict:
        splits = local_or_hub("SST-2", self.local_files(), self._read_local, self._read_hub, HUB_ID)
        splits = splits.rename_column("sentence", "text")
        splits["test"] = splits["validation"]
        return splits

    def _read_local(self, files: dict[str, Path]) -> DatasetDict:
        splits = {}
        for split, path in files.items():
            rows = read_columns(
                path, COLUMNS, "tsv", column_hint="SST-2 files start with the header sentence<TAB>label"
            )
            splits[split] = Dataset.from_dict({"sentence": rows["sentence"], "label": label_ids(rows["label"], path)})
        return DatasetDict(splits)

    def _read_hub(self) -> DatasetDict:
        splits = load_dataset(HUB_ID, cache_dir=str(self.cache_dir / "datasets"))
        return DatasetDict({s: splits[s].remove_columns("idx") for s in ("train", "validation")})


def label_ids(values: list[str], path: Path) -> list[int]:
    """Integer labels (range-checked later, against the label names); anything else is named with its file."""
    try:
        return [int(value) for value in values]
    except ValueError:
        bad = next(value for value in values if not value.strip().lstrip("+-").isdigit())
        raise UserError(f"{path} has the label {bad!r}; SST-2 labels are integers (0 or 1)") from None
