"""Query evaluation over the Whoosh index with numpy arrays (term-at-a-time BM25).

Whoosh stores the index well but evaluates queries through a tree of Python matcher objects, one
method call per posting per node: measured here, a 15-word pasted sentence took 50-100 ms on
5,000 records and far more at 100,000. This module reads each term's posting blocks once into
arrays and evaluates the query tree with whole-array operations:

- a node evaluates to (mask, score) over every document number of the snapshot;
- Term: BM25 with Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), and per-field length
  normalisation from Whoosh's own length column;
- And / Or / AndNot / Not: boolean algebra on masks, scores summed;
- Phrase: the documents holding all its words (arrays), confirmed by Whoosh's position check;
- Prefix / Wildcard: expanded to the index's terms (capped), scored as an Or;
- NumericRange on year/date: comparisons on columns; ConstantScoreQuery: its mask, no score.

Facet counting and sorting by date use the same per-snapshot arrays. Whoosh objects stay inside
search/: the searcher turns results into Articles.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from whoosh import query as wq

from index.errors import SearchTimeoutError

# The index read into arrays lives in arrays.py (split by concern); IndexArrays and FacetTable
# are re-exported so callers keep importing them from here.
from index.whoosh.arrays import FacetTable, IndexArrays, phrase_docs

__all__ = ["MAX_EXPANSIONS", "NUMERIC_COLUMNS", "SYNONYM_CAP", "Alternatives", "Evaluator",
           "FacetTable", "IndexArrays", "sort_by", "top_k"]

MAX_EXPANSIONS = 600  # PubMed's own cap on truncated-term variants
NUMERIC_COLUMNS = frozenset({"year", "date", "pdate", "edate"})  # ranges read from columns


class Alternatives(wq.Or):
    """A typed word or phrase (the first subquery) and its vocabulary expansions (the rest).

    Scored as an Or, except that an expansion never outweighs what the user typed: the scores of
    each expansion are scaled down, when needed, so that its best document scores at most
    SYNONYM_CAP times the best document of the typed form (documents full of "HT" no longer beat
    those that say "serotonin"). Other backends may treat it as a plain Or.
    """


SYNONYM_CAP = 0.5


class Evaluator:
    """Evaluates a Whoosh query tree to (mask, scores) arrays."""

    def __init__(self, arrays: IndexArrays, k1: float, b: float) -> None:
        self.a = arrays
        self.k1 = k1
        self.b = b
        # Truncations cut at MAX_EXPANSIONS during the last run(), as (field, prefix), so the
        # searcher can say so instead of silently returning fewer records.
        self.truncated: list[tuple[str, str]] = []
        self._deadline: float | None = None
        self._budget: float | None = None

    def run(self, q: wq.Query, deadline: float | None = None,
            budget_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mask, scores) of ``q``. Past ``deadline`` (time.monotonic()) the evaluation stops
        with SearchTimeoutError, checked between query nodes and truncation variants."""
        self.truncated = []
        self._deadline = deadline
        self._budget = budget_s
        mask, score = self._eval(q)
        mask = mask & self.a.live
        return mask, np.where(mask, score, np.float32(0))

    def _check_time(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise SearchTimeoutError(
                f"the search ran longer than {self._budget or 0:g} s and was stopped: make it "
                "narrower (more letters before '*', fewer alternatives) or raise "
                "search.timeout_s in the config")

    # Each node: (bool mask, float32 scores) arrays of length n_all.
    def _eval(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        self._check_time()
        n = self.a.n_all
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.And):
            mask = np.ones(n, dtype=bool)
            score = np.zeros(n, dtype=np.float32)
            for sub in q.subqueries:
                m, s = self._eval(sub)
                mask &= m
                score += s
            return mask, score * q.boost if q.boost != 1 else score
        if isinstance(q, Alternatives):
            return self._alternatives(q)
        if isinstance(q, wq.Or):
            mask = np.zeros(n, dtype=bool)
            score = np.zeros(n, dtype=np.float32)
            for sub in q.subqueries:
                m, s = self._eval(sub)
                mask |= m
                score += s
            return mask, score * q.boost if q.boost != 1 else score
        if isinstance(q, wq.AndMaybe):
            m, s = self._eval(q.a)
            _m2, s2 = self._eval(q.b)
            return m, s + s2
        if isinstance(q, wq.AndNot):
            m, s = self._eval(q.a)
            nm, _ = self._eval(q.b)
            return m & ~nm, s
        if isinstance(q, wq.Not):
            m, _ = self._eval(q.query)
            return ~m, np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.ConstantScoreQuery):
            m, _ = self._eval(q.child)
            return m, np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.Every):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.Phrase):
            return self._phrase(q)
        if isinstance(q, wq.NumericRange) and q.fieldname in NUMERIC_COLUMNS:
            col = self.a.numeric_column(q.fieldname)
            mask = col > 0
            if q.start is not None:
                mask &= col >= q.start
            if q.end is not None:
                mask &= col <= q.end
            return mask, np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.Prefix | wq.Wildcard):
            return self._multiterm(q)
        if q is wq.NullQuery:
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float32)
        # Anything else: let Whoosh find the documents; no score contribution.
        mask = np.zeros(n, dtype=bool)
        docs = np.fromiter(q.docs(self.a.searcher), dtype=np.int64)
        mask[docs] = True
        return mask, np.zeros(n, dtype=np.float32)

    def _alternatives(self, q: Alternatives) -> tuple[np.ndarray, np.ndarray]:
        own_mask, own = self._eval(q.subqueries[0])
        mask, score = own_mask.copy(), own.copy()
        best = float(own.max()) if own.size else 0.0
        for sub in q.subqueries[1:]:
            m, s = self._eval(sub)
            top = float(s.max()) if s.size else 0.0
            if best > 0 and top > SYNONYM_CAP * best:
                s = s * np.float32(SYNONYM_CAP * best / top)
            mask |= m
            score += s
        return mask, score * q.boost if q.boost != 1 else score

    def _btext(self, field: str, text: Any) -> bytes:
        if isinstance(text, bytes):
            return text
        return self.a.schema[field].to_bytes(text)

    def _term(self, field: str, text: Any, boost: float) -> tuple[np.ndarray, np.ndarray]:
        n = self.a.n_all
        ids, tf = self.a.postings(field, self._btext(field, text))
        mask = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float32)
        if ids.size == 0:
            return mask, score
        mask[ids] = True
        if self.a.schema[field].scorable:
            score[ids] = self._bm25(field, ids, tf) * np.float32(boost)
        return mask, score

    def _bm25(self, field: str, ids: np.ndarray, tf: np.ndarray) -> np.ndarray:
        lengths, avg = self.a.lengths(field)
        df = ids.size
        n = max(self.a.n_live, df)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1.0 - self.b + self.b * lengths[ids] / avg)
        return (idf * tf * (self.k1 + 1.0) / (tf + norm)).astype(np.float32)

    def _phrase(self, q: wq.Phrase) -> tuple[np.ndarray, np.ndarray]:
        n = self.a.n_all
        mask = np.ones(n, dtype=bool)
        score = np.zeros(n, dtype=np.float32)
        for word in q.words:
            m, s = self._term(q.fieldname, word, 1.0)
            mask &= m
            score += s
        cands = np.flatnonzero(mask & self.a.live)
        if cands.size == 0 or len(q.words) == 1:
            return mask, score * np.float32(q.boost)
        # Positions, read only for the documents that hold every word.
        keys = [self.a.position_keys(q.fieldname, self._btext(q.fieldname, w), cands)
                for w in q.words]
        found = phrase_docs(keys, max(1, q.slop))
        in_phrase = np.zeros(n, dtype=bool)
        in_phrase[found] = True
        mask &= in_phrase
        return mask, score * np.float32(q.boost)

    def _multiterm(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        n = self.a.n_all
        mask = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float32)
        field = q.fieldname
        for count, btext in enumerate(q._btexts(self.a.reader)):
            if count >= MAX_EXPANSIONS:
                self.truncated.append((field, str(getattr(q, "text", ""))))
                break
            if count % 50 == 49:
                self._check_time()
            m, s = self._term(field, btext, q.boost)
            mask |= m
            # The best-matching variant counts, so a stem with many variants is not favoured.
            np.maximum(score, s, out=score)
        return mask, score


def top_k(mask: np.ndarray, score: np.ndarray, k: int | None) -> np.ndarray:
    """Document numbers of the best scores among mask, best first (ties: lower docnum)."""
    docs = np.flatnonzero(mask)
    if docs.size == 0:
        return docs
    s = score[docs]
    if k is not None and k < docs.size:
        # Keep every document scoring at least the k-th best score, not just k of them:
        # argpartition picks among records tied at the cut arbitrarily, so page 1 (k = 20)
        # and page 2 (k = 40) could both show, or both miss, one of a tie.
        kth = np.partition(-s, k - 1)[k - 1]
        keep = -s <= kth
        docs, s = docs[keep], s[keep]
    order = np.lexsort((docs, -s))
    return docs[order][:k]


def sort_by(mask: np.ndarray, key: np.ndarray, newest: bool, k: int | None) -> np.ndarray:
    docs = np.flatnonzero(mask)
    keys = key[docs]
    order = np.lexsort((docs, -keys)) if newest else np.lexsort((docs, keys))
    docs = docs[order]
    return docs if k is None else docs[:k]
