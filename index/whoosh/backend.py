"""The embedded Whoosh index as a SearchBackend (index/backend.py).

One snapshot of the index (a consistent reader: a harvest committing meanwhile is seen after
``refresh()``, never half-way), queried with the numpy engine (index.whoosh.engine): a plan is
compiled (index.whoosh.compile), the filters added as zero-scoring clauses, the whole query
evaluated to a match mask and scores, ordered (relevance, newest, oldest), the asked window cut
and the facets counted over every match. Whoosh objects stay in this package: the searcher gets
pmids, scores, counts and words.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh import query as wq
from whoosh.scoring import BM25F

from index import query_plan as qp
from index.backend import BackendResult, Filters
from index.errors import IndexMissingError
from index.evidence import LABEL_FACETS, evidence_key
from index.settings import Settings
from index.whoosh.compile import to_whoosh
from index.whoosh.engine import MAX_EXPANSIONS, Evaluator, IndexArrays, sort_by, top_k
from index.whoosh.index_dir import live_index_dir, open_index

# BM25 parameters: the textbook defaults; the relevance benchmark (bench/README.md) found the
# neighbourhood flat (k1 0.7-1.6, b 0.4-0.9 within 0.004 nDCG@10), so nothing is fitted here.
BM25_K1 = 1.2
BM25_B = 0.75


class WhooshBackend:
    """The live Whoosh index of ``settings`` (see the module docstring). ``stored`` counts the
    store's records, for the message when the index is empty. Not thread-safe: the Searcher
    serialises calls."""

    def __init__(self, settings: Settings, stored: Callable[[], int]) -> None:
        self.settings = settings
        self._stored = stored
        self._ix: Any = None
        self._s: Any = None
        self._dir: Path | None = None
        self._open()

    # -- lifecycle ----------------------------------------------------------------------------

    def _open(self) -> None:
        last: Exception | None = None
        for _ in range(5):
            ix = open_index(self.settings)
            try:
                # Whoosh's own weighting only serves its phrase/wildcard helpers; ranking is
                # index.whoosh.engine's.
                s = ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
            except FileNotFoundError as exc:  # segments merged away between open and read
                ix.close()
                last = exc
                continue
            if s.doc_count_all() == 0:
                s.close()
                ix.close()
                stored = self._stored()
                if stored == 0:
                    raise IndexMissingError(
                        "the index is empty: run `ketlit harvest` or `ketlit ingest FILE` first")
                raise IndexMissingError(
                    f"the index at {self.settings.index_dir} holds none of the "
                    f"{stored} stored records: run `ketlit reindex`")
            self._ix, self._s, self._dir = ix, s, live_index_dir(self.settings)
            self.arrays = IndexArrays(s)
            self.engine = Evaluator(self.arrays, k1=BM25_K1, b=BM25_B)
            self._pmid_col = s.reader().column_reader("pmid")
            self._spelling: list[str] | None = None  # read on the first "did you mean"
            return
        raise IndexMissingError(f"the index at {self.settings.index_dir} kept changing while "
                                f"being opened ({last}); try again")

    def refresh(self) -> bool:
        """Move to the newest committed index. True if it changed."""
        if self._dir == live_index_dir(self.settings) and self._s.up_to_date():
            return False
        old_ix, old_s = self._ix, self._s
        self._open()
        old_s.close()
        old_ix.close()
        return True

    def close(self) -> None:
        if self._s is not None:
            self._s.close()
            self._ix.close()
            self._s = None

    def doc_count(self) -> int:
        return int(self._s.doc_count())

    # -- searching ----------------------------------------------------------------------------

    def search(self, query: qp.Node, filters: Filters, sort: str, start: int,
               limit: int | None, *, facets: bool = True) -> BackendResult:
        mask, score = self._run(self.with_filters(to_whoosh(query), filters))
        total = int(np.count_nonzero(mask))
        ranked: list[tuple[str, float | None]] = []
        if limit != 0 and start < total:
            docs = self._order(mask, score, sort, None if limit is None else start + limit)
            ranked = [(self._pmid(d), s) for d, s in docs[start:]]
        return BackendResult(ranked=ranked, total=total,
                             facets=self._facets(mask) if facets else {},
                             notices=self._notices())

    def with_filters(self, q: wq.Query, filters: Filters) -> wq.Query:
        """``q`` restricted by the filters, which select without scoring."""
        parts: list[wq.Query] = []
        if filters.topics:
            parts.append(_any("topic", filters.topics))
        if filters.year_from is not None or filters.year_to is not None:
            parts.append(wq.NumericRange("year", filters.year_from, filters.year_to))
        if filters.types:
            parts.append(_any("pubtype", filters.types))
        if filters.languages:
            parts.append(_any("lang", filters.languages))
        if filters.has_abstract:
            parts.append(wq.Term("hasabs", True))
        # Evidence annotations: any of a facet's labels (``keys`` terms, as the [design]-style
        # tags find them), at least N people studied.
        for name in LABEL_FACETS:
            labels = getattr(filters, name)
            if labels:
                parts.append(_any("keys", [evidence_key(name, v) for v in labels]))
        if filters.min_participants is not None:
            parts.append(wq.NumericRange("participants", filters.min_participants, None))
        if not parts and not filters.exclude_retracted:
            return q
        # Filters only select: a constant score of 0 keeps them out of the ranking.
        clauses = [q] + [wq.ConstantScoreQuery(f, 0.0) for f in parts]
        combined: wq.Query = wq.And(clauses) if len(clauses) > 1 else q
        if filters.exclude_retracted:
            combined = wq.AndNot(combined, wq.Term("retracted", True))
        return combined

    def whoosh_search(self, query: qp.Node, filters: Filters, limit: int) -> int:
        """Whoosh's own evaluation of the same query (the latency benchmark's baseline): how
        many of the top ``limit`` it found."""
        return len(self._s.search(self.with_filters(to_whoosh(query), filters), limit=limit))

    def term_weights(self, field: str, counts: Mapping[str, int],
                     min_df: int = 2) -> list[tuple[float, str]]:
        """(tf x idf, term) for the terms in at least ``min_df`` records (Whoosh's idf)."""
        out = []
        for term, tf in counts.items():
            if self._s.doc_frequency(field, term) < min_df:
                continue
            out.append((tf * self._s.idf(field, term), term))
        return out

    def known_word(self, word: str) -> bool:
        """Is ``word`` in the index's spelling vocabulary?"""
        return bool(self._s.doc_frequency("spell", word) > 0)

    def closest_word(self, word: str, maxdist: int = 2) -> str | None:
        """The indexed word nearest to ``word`` (Damerau-Levenshtein distance at most
        ``maxdist``), the most frequent among equally near ones.

        RapidFuzz compares the word with the index's whole spelling vocabulary, read once per
        opened index. Whoosh's corrector walks the term files instead, merging every segment's
        terms for each prefix it tries: a query with no hits spent 50 ms on a 2-segment and
        90 ms on a 10-segment index of 20,000 records looking for a suggestion."""
        if self._spelling is None:
            words: set[str] = set()
            for leaf, _offset in self._s.reader().leaf_readers():
                words.update(leaf.field_terms("spell"))
            self._spelling = sorted(words)
        near = process.extract(word, self._spelling, scorer=DamerauLevenshtein.distance,
                               score_cutoff=maxdist, limit=None)
        if not near:
            return None
        reader = self._s.reader()
        best, _dist, _i = min(near, key=lambda m: (m[1], -reader.frequency("spell", m[0]), m[0]))
        return str(best)

    # -- internals -----------------------------------------------------------------------------

    def _run(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """The engine's evaluation of ``q`` within the configured time budget."""
        budget = self.settings.search.timeout_s
        return self.engine.run(q, deadline=time.monotonic() + budget, budget_s=budget)

    def _order(self, mask: np.ndarray, score: np.ndarray, sort: str,
               n: int | None) -> list[tuple[int, float | None]]:
        if sort == "relevance":
            docs = top_k(mask, score, n)
            return [(int(d), float(score[d])) for d in docs]
        docs = sort_by(mask, self.arrays.numeric_column("date"), sort == "newest", n)
        return [(int(d), None) for d in docs]

    def _notices(self) -> list[str]:
        """What the last engine run had to cut, in words a searcher can act on."""
        out = []
        for _field, text in dict.fromkeys(self.engine.truncated):
            word = text.split(":", 1)[1] if ":" in text else text
            out.append(f"truncation {word}* matches more than {MAX_EXPANSIONS} words; as in "
                       f"PubMed, only the first {MAX_EXPANSIONS} were searched: type more "
                       "letters before '*' to search them all")
        return list(dict.fromkeys(out))

    def _pmid(self, docnum: int) -> str:
        v = self._pmid_col[docnum]
        return v.decode() if isinstance(v, bytes) else str(v)

    def _facets(self, mask: np.ndarray) -> dict[str, dict[str, int]]:
        ids, n_keys, tables = self.arrays.facet_tables()
        per_key = np.bincount(ids[mask], minlength=n_keys)
        out: dict[str, dict[str, int]] = {}
        for name, (values, rows, cols) in tables.items():
            counts = np.bincount(cols, weights=per_key[rows], minlength=len(values))
            pairs = [(v, int(round(c))) for v, c in zip(values, counts.tolist(), strict=False)
                     if c > 0]
            if name == "year":
                pairs.sort(key=lambda vc: vc[0], reverse=True)
            else:
                pairs.sort(key=lambda vc: (-vc[1], vc[0]))
            out[name] = dict(pairs)
        # How many of the results are retracted: shown beside the "leave out retracted" filter.
        n_retracted = int(np.count_nonzero(mask & self.arrays.flag("retracted")))
        out["retracted"] = {"true": n_retracted,
                            "false": int(np.count_nonzero(mask)) - n_retracted}
        return out


def _any(fieldname: str, values: tuple[str, ...] | list[str]) -> wq.Query:
    terms = [wq.Term(fieldname, v) for v in values]
    return terms[0] if len(terms) == 1 else wq.Or(terms)
