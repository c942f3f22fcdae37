"""Tiny, learnable data sets in the on-disk formats of bbc_news and conll2003, built at test time."""

from __future__ import annotations

import csv
import gzip
import random
from pathlib import Path

TOPICS = {
    "business": ["profits", "shares", "market", "bank", "economy"],
    "entertainment": ["film", "actor", "album", "festival", "award"],
    "politics": ["minister", "election", "party", "vote", "parliament"],
    "sport": ["match", "goal", "coach", "league", "champion"],
    "tech": ["software", "internet", "mobile", "computer", "digital"],
}
COMMON = ["the", "a", "said", "on", "in", "after", "year", "new", "people", "and", "its", "week", "more", "of"]


def news_article(topic: str, rng: random.Random, words: int) -> str:
    """A headline, a blank line and paragraphs (newlines inside the CSV field, as in the real file)."""
    body = [rng.choice(TOPICS[topic]) if rng.random() < 0.2 else rng.choice(COMMON) for _ in range(words)]
    paragraphs = [" ".join(body[i : i + 12]) + "." for i in range(0, len(body), 12)]
    return f"{rng.choice(TOPICS[topic]).title()} news\n\n" + "\n\n".join(paragraphs)


def write_news_csv(path: Path, count: int, seed: int, words: tuple[int, int] = (20, 60)) -> None:
    """bbc_news's format: gzip CSV, header `label,text`, rows ordered by class."""
    rng = random.Random(seed)
    rows = [
        (topic, news_article(topic, rng, rng.randint(*words))) for i in range(count) for topic in [list(TOPICS)[i % 5]]
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "text"])
        writer.writerows(sorted(rows))


def write_bbc_news(folder: Path, train: int = 160, test: int = 40) -> Path:
    write_news_csv(folder / "bbc_news" / "train.csv.gz", train, seed=0)
    write_news_csv(folder / "bbc_news" / "test.csv.gz", test, seed=1)
    return folder


ENTITIES = {
    "PER": [["Peter", "Blackburn"], ["Anna"], ["José", "Ortega"], ["Li", "Wei"]],
    "LOC": [["Brussels"], ["São", "Paulo"], ["New", "York"], ["Zürich"]],
    "ORG": [["European", "Commission"], ["Reuters"], ["Bayern", "Munich"]],
    "MISC": [["German"], ["British"], ["Euro-sceptic"]],
}
FILLERS = ["said", "on", "the", "in", "visited", "met", "with", "today", "and", "reported", "1996-08-22", "3.5"]


def conll_sentence(rng: random.Random) -> list[tuple[str, str]]:
    """Words with IOB1 tags: `I-` opens an entity, `B-` only right after another entity of the same type."""
    rows: list[tuple[str, str]] = []
    previous_type = None
    for _ in range(rng.randint(2, 5)):
        if rng.random() < 0.5:
            kind = rng.choice(sorted(ENTITIES))
            words = rng.choice(ENTITIES[kind])
            first = "B" if previous_type == kind else "I"
            rows += [(w, f"{first if i == 0 else 'I'}-{kind}") for i, w in enumerate(words)]
            previous_type = kind
        else:
            rows += [(w, "O") for w in rng.sample(FILLERS, rng.randint(1, 3))]
            previous_type = None
    return rows


def write_conll_file(path: Path, sentences: int, seed: int) -> None:
    """The CoNLL-2003 column format: `-DOCSTART-` documents, `token POS chunk NER` lines, blank lines between."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for i in range(sentences):
            if i % 10 == 0:
                handle.write("-DOCSTART- -X- O O\n\n")
            for word, tag in conll_sentence(rng):
                handle.write(f"{word} NNP I-NP {tag}\n")
            handle.write("\n")


def write_conll2003(folder: Path, train: int = 120, valid: int = 40, test: int = 40) -> Path:
    for name, count, seed in (("train", train, 0), ("valid", valid, 1), ("test", test, 2)):
        write_conll_file(folder / "conll2003" / f"{name}.txt.gz", count, seed)
    return folder
