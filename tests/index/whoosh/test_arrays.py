"""index.whoosh.arrays internals that searches rely on but cannot show: positions decoded in batches
exactly as Whoosh decodes them one by one, position tables filled only as far as asked, phrases
matched as Whoosh matches them, and the per-document readers (field lengths, numeric columns,
facet keys, flags) read straight from Whoosh's files giving what Whoosh's own readers and the
stored records say."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.formats import Positions
from whoosh.matching.wrappers import FilterMatcher

from index.settings import Settings
from index.store import RecordStore
from index.whoosh.arrays import IndexArrays, _decode_positions
from index.whoosh.backend import WhooshBackend
from index.whoosh.schema import facet_key

CASES = [[0], [5], [1, 2, 3], list(range(0, 3000, 7)),  # > 1000 items: several APPENDS batches
         [70_000, 70_001, 16_000_000], [255, 256, 65_535, 65_536], [9, 9, 9]]


@pytest.mark.parametrize("strip_stop", [False, True])
def test_batched_decoding_equals_whoosh(strip_stop: bool) -> None:
    fmt = Positions()
    values = [fmt.encode(c) for c in CASES]
    if strip_stop:  # the codec may store values without the pickle's final STOP
        values = [v.removesuffix(b".") for v in values]
    got = _decode_positions(values)
    assert got is not None
    assert [list(accumulate(d)) for d in got] == [fmt.decode_positions(v) for v in values]
    assert [list(accumulate(d)) for d in _decode_positions(values[:1])] == [CASES[0]]


def test_unexpected_values_are_refused_not_misread() -> None:
    good = Positions().encode([1, 2])
    assert _decode_positions([good, b"\x00\x00\x00\x01K\x05a"]) is None  # no pickle header
    assert _decode_positions([good[:6] + b"K\x05"]) is None  # not a list


@pytest.fixture(scope="module")
def backend(indexed_settings: Settings):
    b = WhooshBackend(indexed_settings, stored=lambda: 1)
    yield b
    b.close()


@pytest.fixture(scope="module")
def searcher(backend: WhooshBackend):
    return backend._s  # Whoosh's own searcher on the same snapshot


def _whoosh_keys(searcher: Any, field: str, btext: bytes, docs: set[int]) -> np.ndarray:
    fmt = searcher.schema[field].format
    out = []
    for leaf, offset in searcher.reader().leaf_readers():
        if (field, btext) not in leaf:
            continue
        m = leaf.postings(field, btext)
        if isinstance(m, FilterMatcher):
            m = m.child
        while m.is_active():
            if m.id() + offset in docs:
                out += [((m.id() + offset) << 24) | p for p in fmt.decode_positions(m.value())]
            m.next()
    return np.array(sorted(out), dtype=np.int64)


@pytest.mark.parametrize(("field", "word"), [("text", b"ketamin"), ("text", b"cancer"),
                                             ("title", b"ketamin"), ("abstract", b"patient")])
def test_position_keys_are_whoosh_positions_read_only_as_far_as_asked(
        searcher: Any, field: str, word: bytes) -> None:
    arrays = IndexArrays(searcher)  # a fresh snapshot: nothing cached yet
    ids, _tf = arrays.postings(field, word)
    assert ids.size >= 4, word
    few = ids[::3][:3]
    keys = arrays.position_keys(field, word, few)
    # a fresh searcher's first phrase decodes its candidates, not the word's whole table
    assert set((keys >> 24).tolist()) == set(few.tolist())
    assert np.array_equal(np.sort(keys), _whoosh_keys(searcher, field, word, set(few.tolist())))
    everything = arrays.position_keys(field, word, ids)
    assert np.array_equal(np.sort(everything), _whoosh_keys(searcher, field, word,
                                                            set(ids.tolist())))
    assert arrays.position_keys(field, word, few) is everything  # cached: nothing decoded again
    # a fresh table read straight from disk (no blocks kept by postings()) agrees too
    cold = IndexArrays(searcher)
    assert np.array_equal(np.sort(cold.position_keys(field, word, ids)), np.sort(everything))


@pytest.mark.parametrize(("words", "slop"), [
    (["breast", "cancer"], 1), (["breast", "cancer"], 3), (["gene", "express"], 1),
    (["cell", "line"], 1), (["patient", "with"], 1), (["random", "control", "trial"], 1),
    (["cancer", "breast"], 4),
])
def test_phrase_matching_agrees_with_whoosh(backend: WhooshBackend, words: list[str],
                                            slop: int) -> None:
    """The array engine's phrase check gives exactly Whoosh's own phrase matches."""
    q = wq.Phrase("text", words, slop=slop)
    mask, _ = backend.engine.run(q)
    mine = set(map(int, mask.nonzero()[0]))
    assert mine == set(q.docs(backend._s))


def _docs(searcher: Any) -> list[tuple[int, str]]:
    return [(d, f["pmid"]) for d, f in searcher.reader().iter_docs()]


@pytest.mark.parametrize("field", ["text", "title", "abstract", "author"])
def test_field_lengths_are_whooshs(searcher: Any, field: str) -> None:
    """BM25's length normalisation reads the length column's bytes directly: the same lengths
    Whoosh's reader decodes document by document, and their mean over live documents."""
    lengths, avg = IndexArrays(searcher).lengths(field)
    reader = searcher.reader()
    docs = [d for d, _p in _docs(searcher)]
    assert len(docs) > 20 and any(lengths[d] > 0 for d in docs)
    for d in docs:
        assert lengths[d] == (reader.doc_field_length(d, field) or 0), d
    assert avg == pytest.approx(float(np.mean([lengths[d] for d in docs])) or 1.0, rel=1e-6)


def test_numeric_columns_and_flags_are_the_records_values(indexed_settings: Settings,
                                                          searcher: Any) -> None:
    """year / pdate columns (ranges, date facets) and the retracted / has-abstract flags, read
    from Whoosh's column and posting files, hold each stored record's own values (0 where a
    record has none)."""
    from index.record_keys import pub_date_key

    arrays = IndexArrays(searcher)
    year, pdate = arrays.numeric_column("year"), arrays.numeric_column("pdate")
    retracted, hasabs = arrays.flag("retracted"), arrays.flag("hasabs")
    docs = _docs(searcher)
    store = RecordStore(indexed_settings.store_path, readonly=True)
    try:
        arts = store.get_many([p for _d, p in docs])
    finally:
        store.close()
    assert any(a.retracted for a in arts.values()) or not retracted.any()
    for d, pmid in docs:
        a = arts[pmid]
        assert year[d] == (a.pub_year or 0), pmid
        assert pdate[d] == pub_date_key(a), pmid
        assert bool(retracted[d]) == a.retracted, pmid
        assert bool(hasabs[d]) == bool(a.abstract), pmid


def test_facet_ids_are_each_documents_facet_key(indexed_settings: Settings,
                                                searcher: Any) -> None:
    """Facet counts index a list of distinct keys by a per-document id read from the RefBytes
    column's raw references: each id names the key Whoosh's column reader returns for that
    document, which is the stored record's facet key."""
    ids, keys = IndexArrays(searcher).facet_ids()
    reader = searcher.reader()
    col = reader.column_reader("facets")
    docs = _docs(searcher)
    store = RecordStore(indexed_settings.store_path, readonly=True)
    try:
        arts = store.get_many([p for _d, p in docs])
    finally:
        store.close()
    assert 1 < len(keys) <= len(docs)
    for d, pmid in docs:
        assert keys[ids[d]] == col[d], pmid
        assert keys[ids[d]].decode("utf-8") == facet_key(arts[pmid]), pmid
