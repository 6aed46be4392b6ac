"""index.solr: documents carry ketlit's analysis; a write Solr did not acknowledge marks nothing
indexed; the compiled query reaches Solr as ketlit analysed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import query as wq

from index.errors import IndexUnavailableError
from index.settings import settings_from_mapping
from index.solr.documents import article_to_solr, encode_tokens
from index.solr.translate import to_solr
from index.store import RecordStore
from index.writer import sync_pending


def test_tokens_keep_their_positions() -> None:
    # The joined form of "IL-6" sits at its last part's position (increment 0); gaps survive.
    assert encode_tokens(["il", "6", "il6", "p<=0.05"], [0, 1, 1, 1005]) == \
        "1 il 6 il6,i=0 p<\\=0.05,i=1004"


def test_article_document_has_the_text_parts_apart(sample_articles: list) -> None:
    art = next(a for a in sample_articles if a.abstract and a.title)
    doc = article_to_solr(art)
    assert doc["pmid"] == art.pmid
    assert doc["text"].startswith("1 ")
    assert ",i=10" in doc["text"]  # TEXT_PART_GAP between title and abstract
    assert doc["hasabs"] is True


def test_translation_keeps_analysed_terms_and_structure() -> None:
    q = wq.AndNot(wq.And([wq.Term("text", "ketamin"), wq.Phrase("text", ["il", "6"]),
                          wq.Prefix("text", "depress"), wq.NumericRange("year", 2019, None)]),
                  wq.Term("pubtype", "review"))
    assert to_solr(q) == ('(+((+(text:ketamin) +(text:"il 6") +(text:depress*) '
                          '+(year:[2019 TO *]))) -(pubtype:"review"))')
    assert to_solr(wq.Term("text", "p<0.05", boost=0.5)) == "(text:p\\<0.05)^0.5"


def test_unacknowledged_write_marks_nothing_indexed(tmp_path: Path, sample_articles: list) -> None:
    url = "http://127.0.0.1:9/solr"
    settings = settings_from_mapping(
        {"data_dir": str(tmp_path), "index": {"backend": "solr",
                                              "solr": {"urls": [url], "timeout_s": 2}}}, tmp_path)
    store = RecordStore(settings.store_path)
    try:
        store.upsert(sample_articles[:5])
        before = sorted(store.pending_index())
        assert len(before) == 5
        with pytest.raises(IndexUnavailableError) as exc:
            sync_pending(settings, store)
        assert url in str(exc.value) and "index.solr.urls" in str(exc.value)
        assert sorted(store.pending_index()) == before
    finally:
        store.close()
