"""Chinese-English sentence pairs from Tatoeba (train 25,626 / valid 3,295 / test 3,107), local files only:
`<data_dir>/zh_en/{train,valid,test}.{zh,en}.gz`. Chinese is a mix of Simplified and Traditional characters."""

from __future__ import annotations

from typing import ClassVar

from encoderlab.data.translation import TranslationDataModule


class ZhEnDataModule(TranslationDataModule):
    languages = ("zh", "en")
    folder = "zh_en"
    split_files: ClassVar[dict[str, str]] = {"train": "train", "validation": "valid", "test": "test"}
