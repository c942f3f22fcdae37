"""Multi30k Task 1: English image descriptions with German and French translations (29,000 / 1,014 / 1,000).

Local files: `<data_dir>/multi30k/{train,val,test_2016_flickr}.{en,de,fr}.gz`; otherwise the HF hub's
`bentrevett/multi30k` (en and de only).
"""

from __future__ import annotations

from typing import ClassVar

from datasets import Dataset, DatasetDict, load_dataset

from encoderlab.data.translation import TranslationDataModule
from encoderlab.errors import UserError

HUB_ID = "bentrevett/multi30k"
HUB_LANGUAGES = ("en", "de")


class Multi30kDataModule(TranslationDataModule):
    languages = ("en", "de", "fr")
    folder = "multi30k"
    split_files: ClassVar[dict[str, str]] = {"train": "train", "validation": "val", "test": "test_2016_flickr"}
    hub_id = HUB_ID

    def read_hub(self) -> DatasetDict:
        if {self.src_lang, self.tgt_lang} - set(HUB_LANGUAGES):
            raise UserError(
                f"{HUB_ID} has only {'/'.join(HUB_LANGUAGES)}; for {self.src_lang}-{self.tgt_lang} put the Multi30k "
                f"files under {self.data_dir / self.folder} (`make data`)"
            )
        splits = load_dataset(HUB_ID, cache_dir=str(self.cache_dir / "datasets"))
        return DatasetDict(
            {
                split: Dataset.from_dict({"src": splits[split][self.src_lang], "tgt": splits[split][self.tgt_lang]})
                for split in ("train", "validation", "test")
            }
        )
