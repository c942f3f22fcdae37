"""Text classification from the user's own files (CSV, TSV, JSON Lines; plain or gzip), set up by config alone.

One text column or a pair (title + body), a label column, label names given or inferred from the training file,
and validation/test either from their own files or carved off the training file (stratified, fixed `split_seed`).
`data=bbc_news` and `data=ag_news` are presets of this module; see `conf/data/text_files.yaml`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset

from encoderlab.data.classification import TextClassificationDataModule
from encoderlab.data.sources import local_or_hub
from encoderlab.data.stratified_splits import carve_split, fold_split
from encoderlab.data.table_format import read_columns
from encoderlab.data.tokenizer import files_fingerprint
from encoderlab.errors import ConfigError, UserError

log = logging.getLogger(__name__)


def infer_label_names(labels: list[str]) -> list[str]:
    """Distinct labels, in numeric order when they are all integers (`2` before `10`), else alphabetical."""
    distinct = set(labels)
    if all(label.lstrip("-").isdigit() for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


class TextFilesDataModule(TextClassificationDataModule):
    def __init__(
        self,
        train_file: str | None = None,
        validation_file: str | None = None,
        test_file: str | None = None,
        format: str | None = None,  # the config key users write
        text_column: str = "text",
        text_pair_column: str | None = None,
        label_column: str = "label",
        validation_fraction: float = 0.1,
        test_fraction: float = 0.1,
        split_seed: int = 0,
        cv_folds: int | None = None,
        cv_fold: int = 0,
        hub_id: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if cv_folds is not None and validation_file is not None:
            raise ConfigError(
                "cv_folds carves validation folds off the training file, but validation_file is set: "
                "drop one of them (data.validation_file=null or data.cv_folds=null)"
            )
        self.files = {"train": train_file, "validation": validation_file, "test": test_file}
        self.format = format
        self.text_column = text_column
        self.text_pair_column = text_pair_column
        self.label_column = label_column
        self.fractions = {"validation": validation_fraction, "test": test_fraction}
        self.split_seed = split_seed
        self.cv_folds = cv_folds
        self.cv_fold = cv_fold
        self.hub_id = hub_id

    # -- files ------------------------------------------------------------------------------------------------------
    def path(self, split: str) -> Path | None:
        """A split's file: absolute, or relative to `data_dir`; None when it is carved off the training file."""
        name = self.files[split]
        if name is None:
            return None
        path = Path(name).expanduser()
        return path if path.is_absolute() else self.data_dir / path

    def local_files(self) -> dict[str, Path]:
        return {split: path for split in self.files if (path := self.path(split)) is not None}

    def corpus_fingerprint(self) -> str:
        train = self.path("train")
        source = files_fingerprint([train]) if train is not None and train.exists() else str(self.hub_id)
        # carving changes which rows are training rows, so the split settings are part of the corpus
        settings = [self.text_column, self.text_pair_column, self.files, self.fractions, self.split_seed]
        if self.cv_folds is not None:
            settings += [self.cv_folds, self.cv_fold]
        return hashlib.sha256(json.dumps([source, *settings], sort_keys=True).encode()).hexdigest()[:16]

    @property
    def text_columns(self) -> list[str]:
        return [self.text_column] + ([self.text_pair_column] if self.text_pair_column else [])

    # -- reading ----------------------------------------------------------------------------------------------------
    def read_splits(self) -> DatasetDict:
        if self.files["train"] is None:
            raise ConfigError(f"data={self.name} needs a training file: set data.train_file=<path to csv/tsv/jsonl>")
        if self.hub_id:
            raw = local_or_hub(self.name, self.local_files(), self._read_local, self._read_hub, self.hub_id)
        else:
            raw = self._read_local(self.local_files())
        if self._label_names is None:
            self._label_names = infer_label_names(raw["train"][self.label_column])
            log.info("%s: label names inferred from the training file: %s", self.name, self._label_names)
        splits = {split: self._to_ids(split, rows) for split, rows in raw.items()}
        return self._carve_missing(splits)

    def _read_local(self, files: dict[str, Path]) -> dict[str, dict[str, list[str]]]:
        columns = [*self.text_columns, self.label_column]
        return {split: read_columns(path, columns, self.format) for split, path in files.items()}

    def _read_hub(self) -> dict[str, dict[str, list[str]]]:
        splits = load_dataset(self.hub_id, cache_dir=str(self.cache_dir / "datasets"))
        out = {}
        for split in ("train", "validation", "test"):
            if split in splits:
                rows = splits[split]
                labels = rows[self.label_column]
                feature = rows.features[self.label_column]
                names = feature.int2str(labels) if hasattr(feature, "int2str") else [str(x) for x in labels]
                out[split] = {**{c: rows[c] for c in self.text_columns}, self.label_column: names}
        return out

    def _to_ids(self, split: str, rows: dict[str, list[str]]) -> Dataset:
        index = {name: i for i, name in enumerate(self.label_names)}
        labels = []
        for value in rows[self.label_column]:
            if value not in index:
                where = self.path(split) or f"{self.hub_id} {split}"
                raise UserError(
                    f"label {value!r} in {where} is not one of the label names ({', '.join(self.label_names)}); "
                    "add it to data.label_names or fix the file"
                )
            labels.append(index[value])
        columns = {"text": rows[self.text_column], "label": labels}
        if self.text_pair_column:
            columns["text_pair"] = rows[self.text_pair_column]
        return Dataset.from_dict(columns)

    def _carve_missing(self, splits: dict[str, Dataset]) -> DatasetDict:
        for split in ("test", "validation"):  # test first, so validation never borrows test rows
            if split not in splits:
                if split == "validation" and self.cv_folds is not None:
                    splits["train"], splits[split] = fold_split(
                        splits["train"], self.cv_folds, self.cv_fold, self.split_seed
                    )
                else:
                    splits["train"], splits[split] = carve_split(
                        splits["train"], self.fractions[split], self.split_seed
                    )
                log.info("%s: %s carved off train: %d examples", self.name, split, len(splits[split]))
        return DatasetDict(splits)
