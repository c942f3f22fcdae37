"""The data the GPU evidence stages read, copied from a data folder into a small one that can travel to the device.

enwiki/train.txt.gz is cut after the first whole articles that reach `--enwiki-mb` of text (the full file is 38 MB
gzip, 103.5 MB of text: more than a 4-minute run can tokenize, pack and use); wikitext2 (validation, test), sst2
(train, validation) and multi30k en/de (train, val, test_2016_flickr) are copied whole, or with `--max-lines` cut
to their first N lines (the CPU rehearsal; Multi30k's files stay line-aligned, SST-2 keeps its header).

usage: python scripts/gpu_data_subset.py SRC DST [--enwiki-mb 30] [--max-lines N]
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections.abc import Iterator
from pathlib import Path

COPIED = {
    "wikitext2": ["wiki.valid.tokens.gz", "wiki.test.tokens.gz"],
    "sst2": ["train.tsv.gz", "validation.tsv.gz"],
    "multi30k": [f"{split}.{lang}.gz" for split in ("train", "val", "test_2016_flickr") for lang in ("en", "de")],
}
ENWIKI = Path("enwiki") / "train.txt.gz"


def read(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        yield from handle


def write(path: Path, lines: Iterator[str]) -> tuple[int, int]:
    """gzip with no timestamp (the same input gives the same bytes); returns (lines, text bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = size = 0
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for line in lines:
            data = line.encode("utf-8")
            handle.write(data)
            count, size = count + 1, size + len(data)
    return count, size


def whole_articles(lines: Iterator[str], max_bytes: int) -> Iterator[str]:
    """Lines up to the end of the article (an empty line ends one) in which the text passes `max_bytes`."""
    size = 0
    for line in lines:
        yield line
        size += len(line.encode("utf-8"))
        if size >= max_bytes and not line.strip():
            return


def first_lines(lines: Iterator[str], limit: int | None) -> Iterator[str]:
    for number, line in enumerate(lines):
        if limit is not None and number >= limit:
            return
        yield line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="a data folder (make data: ./data -> ../shared/data)")
    parser.add_argument("dst", type=Path)
    parser.add_argument("--enwiki-mb", type=float, default=30.0, help="text (not gzip) megabytes of enwiki to keep")
    parser.add_argument("--max-lines", type=int, default=None, help="cut every other file to its first N lines")
    args = parser.parse_args(argv)
    wanted = [ENWIKI, *(Path(folder) / name for folder, names in COPIED.items() for name in names)]
    missing = [str(args.src / path) for path in wanted if not (args.src / path).is_file()]
    if missing:
        sys.exit(f"error: {', '.join(missing)} not found; run `make data` or pass the folder that holds them")
    enwiki = write(args.dst / ENWIKI, whole_articles(read(args.src / ENWIKI), int(args.enwiki_mb * 1e6)))
    print(f"{ENWIKI}: {enwiki[0]:,} lines, {enwiki[1] / 1e6:.1f} MB of text")
    for path in wanted[1:]:
        limit = args.max_lines + 1 if args.max_lines and path.name.endswith(".tsv.gz") else args.max_lines
        lines, _ = write(args.dst / path, first_lines(read(args.src / path), limit))
        print(f"{path}: {lines:,} lines")


if __name__ == "__main__":
    main()
