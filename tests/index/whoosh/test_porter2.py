"""index.porter2 is Whoosh's Porter2, vendored: every word of a biomedical vocabulary stems alike
(the stems are part of the index format and of the ranking figures)."""

import json
import re
from pathlib import Path

import pytest
from whoosh.lang import porter2 as whoosh_porter2

from index.porter2 import stem

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "ir" / "scifact-train"


def test_known_words_stem_like_whoosh() -> None:
    for w in ["organizations", "internal", "universities", "added", "evening", "emergency",
              "psychologists", "randomized", "generously", "skies", "dying", "news"]:
        assert stem(w) == whoosh_porter2.stem(w)


def test_scifact_vocabulary_stems_like_whoosh() -> None:
    corpus = CORPUS / "corpus.jsonl"
    if not corpus.exists():
        pytest.skip(reason="../shared/data/ir/scifact-train not present")
    vocab: set[str] = set()
    for line in corpus.open(encoding="utf-8"):
        for v in json.loads(line).values():
            if isinstance(v, str):
                vocab.update(re.findall(r"[^\W\d_]+", v.lower()))
    assert len(vocab) > 10_000
    assert [w for w in vocab if stem(w) != whoosh_porter2.stem(w)] == []
