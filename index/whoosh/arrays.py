"""Per-snapshot arrays of the Whoosh index for index/whoosh/engine.py: field lengths, numeric and
facet columns, each term's postings, and its positions (decoded in batches, cached per snapshot),
plus the phrase check on them.

Split from engine.py by concern (engine.py evaluates queries, this module reads the index into
arrays); engine.py re-exports IndexArrays so callers keep importing it from there.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Iterator
from itertools import chain
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.formats import Positions
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

MAX_CACHED_TERMS = 48  # position tables kept per snapshot (LRU)
MAX_CACHED_KEYS = 12_000_000  # ... and at most this many positions in all (96 MB)
MAX_STASHED_POSTINGS = 300_000  # raw blocks of the terms read last, for their phrases (~20 MB)
_BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_TF = np.zeros(0, dtype=np.float32)
# A facet's values, and the (distinct facet key, value index) pairs that hold.
FacetTable = tuple[list[str], np.ndarray, np.ndarray]


class IndexArrays:
    """Per-snapshot arrays: live documents, field lengths, columns, cached postings."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = self.reader.schema
        self.leaves: list[tuple[Any, int]] = list(self.reader.leaf_readers())
        self.n_all = int(self.reader.doc_count_all())
        live = np.ones(self.n_all, dtype=bool)
        for leaf, offset in self.leaves:
            if leaf.has_deletions():
                dead = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
                live[dead + offset] = False
        self.live = live
        self.n_live = int(live.sum())
        self._lengths: dict[str, tuple[np.ndarray, float]] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._postings: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = \
            OrderedDict()
        self._facets: tuple[np.ndarray, list[bytes]] | None = None
        self._poskeys: OrderedDict[tuple[str, bytes], tuple[np.ndarray, np.ndarray]] = \
            OrderedDict()
        self._poskeys_size = 0
        self._stash: OrderedDict[tuple[str, bytes], list[tuple[np.ndarray, Any]]] = OrderedDict()
        self._stash_size = 0
        self._tables: tuple[np.ndarray, int, dict[str, FacetTable]] | None = None
        self._flags: dict[str, np.ndarray] = {}

    # -- per-document data -------------------------------------------------------------------

    def lengths(self, field: str) -> tuple[np.ndarray, float]:
        """(length of the field in every document, average over live documents)."""
        if field not in self._lengths:
            out = np.zeros(self.n_all, dtype=np.float32)
            for leaf, offset in self.leaves:
                n = leaf.doc_count_all()
                col = leaf._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
                if col is None:
                    continue
                raw = col._dbfile.get(col._basepos, min(col._count, n))
                codes = np.frombuffer(raw, dtype=np.uint8)
                out[offset:offset + len(codes)] = _BYTE_TO_LENGTH[codes]
            live_lengths = out[self.live]
            avg = float(live_lengths.mean()) if live_lengths.size else 1.0
            self._lengths[field] = (out, avg or 1.0)
        return self._lengths[field]

    def numeric_column(self, field: str) -> np.ndarray:
        """A sortable NUMERIC field as an int64 array (0 where a document has no value)."""
        if field not in self._columns:
            out = np.zeros(self.n_all, dtype=np.int64)
            ftype = self.schema[field]
            for leaf, offset in self.leaves:
                if not leaf.has_column(field):
                    continue
                col = leaf.column_reader(field, translate=False)
                n = leaf.doc_count_all()
                raw = col._dbfile.get(col._basepos, col._fixedlen * min(col._count, n))
                vals = np.frombuffer(raw, dtype=np.dtype(">" + col._typecode)).astype(np.int64)
                out[offset:offset + len(vals)] = vals
                if len(vals) < n:  # trailing documents without a value
                    out[offset + len(vals):offset + n] = 0
            # A document without a value holds the column default (the type's maximum).
            out[(out < 0) | (out >= 2**31 - 1) | (out == ftype.default)] = 0
            self._columns[field] = out
        return self._columns[field]

    def facet_tables(self) -> tuple[np.ndarray, int, dict[str, FacetTable]]:
        """Per-document key ids, the number of distinct keys and, for each facet, its values and
        the (key, value) pairs that hold, so counting a result set is one bincount over the
        documents and one small weighted bincount per facet (a dense key x value matrix product
        took ~7 ms for years at 100,000 records)."""
        if self._tables is None:
            from index.whoosh.schema import FACET_PARTS, parse_facet_key

            ids, keys = self.facet_ids()
            parsed = [parse_facet_key(k.decode("utf-8") if k else "") for k in keys]
            tables: dict[str, FacetTable] = {}
            for name in FACET_PARTS:
                values = sorted({v for p in parsed for v in p[name]})
                index = {v: i for i, v in enumerate(values)}
                pairs = [(row, index[v]) for row, p in enumerate(parsed) for v in p[name]]
                rows = np.fromiter((r for r, _c in pairs), dtype=np.int64, count=len(pairs))
                cols = np.fromiter((c for _r, c in pairs), dtype=np.int64, count=len(pairs))
                tables[name] = (values, rows, cols)
            self._tables = (ids, len(keys), tables)
        return self._tables

    def flag(self, field: str) -> np.ndarray:
        """Documents where a BOOLEAN field is true, as a mask (cached per snapshot)."""
        if field not in self._flags:
            mask = np.zeros(self.n_all, dtype=bool)
            ids, _tf = self.postings(field, self.schema[field].to_bytes(True))
            mask[ids] = True
            self._flags[field] = mask
        return self._flags[field]

    def facet_ids(self) -> tuple[np.ndarray, list[bytes]]:
        """Each document's facet key as an index into a list of distinct keys."""
        if self._facets is None:
            keys: dict[bytes, int] = {}
            ids = np.zeros(self.n_all, dtype=np.int32)
            for leaf, offset in self.leaves:
                col = leaf.column_reader("facets", translate=False)
                n = leaf.doc_count_all()
                uniques = getattr(col, "_uniques", None)
                if uniques is None:  # not a RefBytes column: read value by value
                    vals = [keys.setdefault(v, len(keys)) for v in col]
                    ids[offset:offset + len(vals)] = vals
                    continue
                # RefBytes: one small reference per document into a list of distinct values.
                raw = col._dbfile.get(col._basepos, n * col._itemsize)
                refs = np.frombuffer(raw, dtype=np.dtype(">" + col._typecode)).astype(np.int64)
                remap = np.array([keys.setdefault(u, len(keys)) for u in uniques],
                                 dtype=np.int32)
                ids[offset:offset + n] = remap[refs]
            self._facets = (ids, list(keys))
        return self._facets

    # -- postings ------------------------------------------------------------------------------

    def postings(self, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, term frequencies) of a term, across segments."""
        key = (field, btext)
        hit = self._postings.get(key)
        if hit is not None:
            self._postings.move_to_end(key)
            return hit
        ids_parts: list[np.ndarray] = []
        tf_parts: list[np.ndarray] = []
        # Blocks also hold the positions: kept a while for a phrase that asks for them next.
        blocks: list[tuple[np.ndarray, Any]] | None = \
            [] if type(self.schema[field].format) is Positions else None
        for leaf, offset in self.leaves:
            if (field, btext) not in leaf:
                continue
            m = leaf.postings(field, btext)
            if isinstance(m, FilterMatcher):  # deletions: the live mask handles them
                m = m.child
            while m.is_active():
                if m._data is None:
                    m._read_data()
                ids = np.asarray(m._data[0], dtype=np.int64)
                if not m._byteids:  # stored as gaps (Whoosh's delta_decode, one call per id)
                    ids = np.cumsum(ids)
                m._read_weights()
                ids_parts.append(ids + offset)
                tf_parts.append(np.asarray(m._weights, dtype=np.float32))
                if blocks is not None:
                    blocks.append((ids_parts[-1], m._data[2]))
                m._next_block()
        if ids_parts:
            result = (np.concatenate(ids_parts), np.concatenate(tf_parts))
        else:
            result = (_EMPTY_IDS, _EMPTY_TF)
        self._postings[key] = result
        if len(self._postings) > 4096:
            self._postings.popitem(last=False)
        if blocks and result[0].size <= MAX_STASHED_POSTINGS:
            self._stash[key] = blocks
            self._stash_size += result[0].size
            while len(self._stash) > 1 and self._stash_size > MAX_STASHED_POSTINGS:
                _k, old = self._stash.popitem(last=False)
                self._stash_size -= sum(ids.size for ids, _v in old)
        return result

    def _position_blocks(self, field: str, btext: bytes,
                         docs: np.ndarray) -> Iterator[tuple[np.ndarray, Any]]:
        """(global document numbers, encoded values) of the term's posting blocks that hold any
        of ``docs`` (sorted): from the blocks postings() just read, else from disk."""
        stashed = self._stash.get((field, btext))
        if stashed is not None:
            for ids, values in stashed:
                lo = int(np.searchsorted(docs, ids[0]))
                if lo < docs.size and docs[lo] <= ids[-1]:
                    yield ids, values
            return
        for leaf, offset in self.leaves:
            lo = int(np.searchsorted(docs, offset))
            hi = int(np.searchsorted(docs, offset + leaf.doc_count_all()))
            if lo == hi or (field, btext) not in leaf:
                continue
            wanted = docs[lo:hi] - offset
            m = leaf.postings(field, btext)
            if isinstance(m, FilterMatcher):
                m = m.child
            start = 0
            while m.is_active():
                # Any wanted document in this block's range (previous max, this max]?
                j = int(np.searchsorted(wanted, m._maxid, side="right"))
                if j > start:
                    if m._data is None:
                        m._read_data()
                    block = np.asarray(m._data[0], dtype=np.int64)
                    if not m._byteids:
                        block = np.cumsum(block)
                    m._read_values()
                    yield block + offset, m._values
                    start = j
                if start >= len(wanted):
                    break
                m._next_block()


    def positions(self, field: str, btext: bytes, docs: np.ndarray) -> dict[int, list[int]]:
        """Positions of a term in the given (sorted) documents, as {docnum: [positions]}."""
        keys = self._read_position_keys(field, btext, docs)
        out: dict[int, list[int]] = {}
        for d, pos in zip((keys >> _POS_BITS).tolist(), (keys & _POS_MASK).tolist(),
                          strict=True):
            out.setdefault(d, []).append(pos)
        return out

    def _read_position_keys(self, field: str, btext: bytes, docs: np.ndarray) -> np.ndarray:
        """Keys doc << 24 | position of a term in the given (sorted) documents, sorted; blocks
        holding none of them are skipped, and only the wanted documents' positions decoded."""
        fmt = self.schema[field].format
        fast = type(fmt) is Positions
        doc_parts: list[np.ndarray] = []
        lists: list[list[int]] = []
        for block, raw in self._position_blocks(field, btext, docs):
            # Both sorted: the block's wanted documents by binary search, not a set operation
            # over every asked-for document per block.
            sub = docs[int(np.searchsorted(docs, block[0])):
                       int(np.searchsorted(docs, block[-1], side="right"))]
            if sub.size == 0:
                continue
            at = np.minimum(np.searchsorted(sub, block), sub.size - 1)
            hit = np.flatnonzero(sub[at] == block)
            if hit.size == 0:
                continue
            values = [raw[k] for k in hit.tolist()]
            decoded = _decode_positions(values) if fast else None
            if decoded is None:  # another format, or not the pickle we know
                decoded = [_deltas(fmt.decode_positions(v)) for v in values]
            lists.extend(decoded)
            doc_parts.append(block[hit])
        if not lists:
            return np.zeros(0, dtype=np.int64)
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        deltas = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
        # Positions are stored as deltas: a running sum restarted at each document.
        total = np.cumsum(deltas)
        starts = np.cumsum(counts) - counts
        pos = total - np.repeat(total[starts] - deltas[starts], counts)
        return (np.repeat(np.concatenate(doc_parts), counts) << _POS_BITS) | pos

    def position_keys(self, field: str, btext: bytes, docs: np.ndarray) -> np.ndarray:
        """Int64 keys doc << 24 | position of a term, covering at least ``docs`` (sorted).

        Cached per term (LRU) and filled incrementally: only documents never asked for before
        are decoded, so a fresh searcher's first phrase reads just its candidates (decoding a
        common word's whole table cost up to ~300 ms at 100,000 records), and repeated phrases
        and synonym expansions ("stress disorder") decode nothing. The keys may hold more
        documents than asked for, and are not sorted once merged.
        """
        key = (field, btext)
        entry = self._poskeys.get(key)
        if entry is None:
            entry = (np.zeros(self.n_all, dtype=bool), np.zeros(0, dtype=np.int64))
        else:
            self._poskeys.move_to_end(key)
        decoded, keys = entry
        todo = docs[~decoded[docs]]
        if todo.size:
            fresh = self._read_position_keys(field, btext, todo)
            keys = np.concatenate((keys, fresh)) if keys.size else fresh
            decoded[todo] = True
            self._poskeys[key] = (decoded, keys)
            self._poskeys_size = sum(k.size for _d, k in self._poskeys.values())
            while len(self._poskeys) > 1 and (len(self._poskeys) > MAX_CACHED_TERMS
                                              or self._poskeys_size > MAX_CACHED_KEYS):
                _k, (_d, old) = self._poskeys.popitem(last=False)
                self._poskeys_size -= old.size
        return keys


_POS_BITS = 24
_POS_MASK = (1 << _POS_BITS) - 1
_PICKLE_PROTO2 = b"\x80\x02"


def _deltas(positions: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *positions], positions, strict=False)]


def _decode_positions(values: list[bytes]) -> list[list[int]] | None:
    """Position deltas of many Whoosh ``Positions`` values in one unpickling, or None if a value
    is not laid out as expected.

    Each value is a 4-byte count and a protocol-2 pickle of the deltas (Whoosh may drop its final
    STOP). Pickle is a stack machine, so the bodies spliced between an empty list and APPEND
    opcodes unpickle as the list of all of them: one ``pickle.loads`` per block instead of one
    per document (those calls were most of a fresh searcher's first phrase search).
    """
    parts = [_PICKLE_PROTO2 + b"]"]
    for v in values:
        if v[4:6] != _PICKLE_PROTO2 or v[6:7] != b"]":
            return None
        parts.append(v[6:-1] if v.endswith(b".") else v[6:])
        parts.append(b"a")
    parts.append(b".")
    try:
        out = pickle.loads(b"".join(parts))
    except (pickle.UnpicklingError, EOFError, IndexError, ValueError, TypeError):
        return None
    if not isinstance(out, list) or len(out) != len(values):
        return None
    return out


def phrase_docs(keys: list[np.ndarray], slop: int) -> np.ndarray:
    """Documents where the words occur in order, each within ``slop`` positions of the
    previous one (Whoosh's Phrase semantics), from per-word position keys."""
    current = keys[0]
    for following in keys[1:]:
        nxt = []
        for d in range(1, slop + 1):
            shifted = current + d
            nxt.append(shifted[np.isin(shifted, following, assume_unique=False)])
        current = np.unique(np.concatenate(nxt)) if nxt else current
        if current.size == 0:
            break
    return np.unique(current >> _POS_BITS)

