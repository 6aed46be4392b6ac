"""index.whoosh.engine internals that searches rely on but cannot show: positions decoded in batches
exactly as Whoosh decodes them one by one, and position tables filled only as far as asked."""

from __future__ import annotations

from itertools import accumulate

import numpy as np
import pytest
from whoosh.formats import Positions
from whoosh.matching.wrappers import FilterMatcher

from index.settings import Settings
from index.whoosh.engine import IndexArrays, _decode_positions
from search.searcher import Searcher, open_searcher

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
def searcher(indexed_settings: Settings):
    with open_searcher(indexed_settings) as s:
        yield s


def _whoosh_keys(searcher: Searcher, field: str, btext: bytes, docs: set[int]) -> np.ndarray:
    fmt = searcher._s.schema[field].format
    out = []
    for leaf, offset in searcher._s.reader().leaf_readers():
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
        searcher: Searcher, field: str, word: bytes) -> None:
    arrays = IndexArrays(searcher._s)  # a fresh snapshot: nothing cached yet
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
    cold = IndexArrays(searcher._s)
    assert np.array_equal(np.sort(cold.position_keys(field, word, ids)), np.sort(everything))
