"""index.whoosh.plain: plain Whoosh as documented, the relevance benchmark's baseline."""

from __future__ import annotations

from pathlib import Path

from index.whoosh.plain import plain_baseline


def test_plain_whoosh_ranks_by_bm25_over_title_and_text(tmp_path: Path) -> None:
    corpus = [{"_id": 1, "title": "Ketamine in depression", "text": "Ketamine ketamine helps."},
              {"_id": 2, "title": "Placebo", "text": "A ketamine mention."},
              {"_id": 3, "title": "Unrelated", "text": "Nothing here."}]
    run = plain_baseline(corpus, {"q1": "ketamine depressed", "q2": "zebra"}, tmp_path)
    assert run["q1"] == ["1", "2"]  # stemmed (depressed ~ depression), OR of the words
    assert run["q2"] == []
