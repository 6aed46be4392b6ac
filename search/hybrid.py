"""Hybrid ranking: the lexical top 100 re-ranked by fusing BM25 with sentence-embedding cosines.

A ``HybridReranker`` sits in ``Searcher.rerankers``, so single searches, batch runs, exports and
the web all get it through the one pipeline. For a request ranked ``hybrid`` (``--rank hybrid``,
``rank=hybrid``, or ``search.rank: hybrid`` in the config) it

1. embeds the query's words (PubMed field tags and operators removed);
2. looks up the stored embeddings of the lexical top ``TOP_K`` (index/embeddings/store.py, kept
   by harvest, ingest and reindex); a candidate without one yet is embedded on the spot from its
   title and abstract and cached in the store when the Searcher closes, so a search right after
   an ingest works and later ones are fast;
3. min-max normalises the lexical scores and the cosines over those candidates and mixes them
   (``index/embeddings/fusion.py``; the weight: see WEIGHT below);
4. when the lexical search finds nothing, falls back to the records nearest the query by
   embedding among those the filters select, and says so in the notices.

``similar_by_embedding`` answers "more like this" from the stored vectors when they cover the
index. Nothing here imports whoosh: it works on PMIDs, scores and the record store.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embeddings import ENABLE_HINT, available
from index.embeddings.fusion import TOP_K, fuse
from index.errors import KetlitError, UsageError
from index.settings import RANKS, Settings

if TYPE_CHECKING:
    from index.embeddings.model import Embedder
    from index.embeddings.store import EmbeddingStore
    from index.store import RecordStore
    from search.searcher import SearchRequest

# Weight of the cosine in the fused score (1 - WEIGHT goes to the lexical score): the best
# min-max weight on scifact-train only (nDCG@10 0.7367 against 0.7281 at the prototype's 0.5
# and 0.7004 lexical), by the sweep of bench/relevance.py --rank hybrid (bench/README.md).
WEIGHT = 0.6
# Embedding records on the spot costs ~20-50 ms each on two cores: a fallback search compares the
# query with at most this many records that have no stored embedding yet.
LAZY_LIMIT = 200
# "More like this" uses embeddings once they cover this share of the stored records (a store
# holding only the few records searched so far would make a poor neighbourhood).
SIMILAR_COVERAGE = 0.9

# Query vectors kept per Searcher (1.5 KB each).
QUERY_CACHE = 256

log = logging.getLogger("ketlit.search")


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """One BLAS thread for a query's forward pass. A few tokens make matrices too small to
    share out, and on cores already busy (the web server's other searches, a harvest) OpenBLAS's
    threads wait on each other: measured here, 600-800 ms per query with its default threads
    against ~25 ms with one (bench/README.md, latency-hybrid). threadpoolctl is optional."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")

_TAG = re.compile(r"\[[^\]]*\]")
_FIELD = re.compile(r"\b[a-z_]+:(?=\S)")
_NOT = re.compile(r"\bNOT\s+(\([^)]*\)|\"[^\"]*\"|\S+)")
_OPS = re.compile(r"\b(AND|OR)\b|[()\"*]")


def query_text(query: str) -> str:
    """The words a query asks about, for embedding: tags, fields, operators and NOT-terms go."""
    text = _TAG.sub(" ", query)
    text = _NOT.sub(" ", text)
    text = _FIELD.sub("", text)
    text = _OPS.sub(" ", text)
    return " ".join(text.split())


def rank_of(req: SearchRequest, settings: Settings) -> str:
    rank = getattr(req, "rank", None) or settings.search.rank
    if rank not in RANKS:
        raise UsageError(f"--rank: expected one of {', '.join(RANKS)}, got {rank!r}")
    return rank


def require_semantic() -> None:
    """One line saying how to enable hybrid ranking when the extra is not installed."""
    if not available():
        raise UsageError(ENABLE_HINT)


def check_rank(rank: str | None, settings: Settings) -> str:
    """The rank a request will use; for hybrid without the semantic extra, one line (exit 2)
    saying how to enable it, before any work is done."""
    chosen = rank or settings.search.rank
    if chosen not in RANKS:
        raise UsageError(f"--rank: expected one of {', '.join(RANKS)}, got {chosen!r}")
    if chosen == "hybrid":
        require_semantic()
    return chosen


def embeddings_dir(settings: Settings) -> Path:
    """Where the embedding store lives: beside the index in data_dir."""
    return settings.data_dir / "embeddings"


@functools.lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    """One model per process: the server's pool of Searchers would otherwise hold a copy of the
    ~90 MB of weights each. The forward pass only reads them, so threads can share it."""
    from index.embeddings.model import Embedder

    return Embedder()


class Embeddings:
    """The stored vectors (reloaded when the file changes) plus vectors computed on the spot,
    which ``flush`` merges into the file. Loading the model waits for the first query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedder: Embedder | None = None
        self._store: EmbeddingStore | None = None
        self._stamp: tuple[int, int] | None = None
        self._pending: dict[str, tuple[str, np.ndarray]] = {}  # pmid -> (text, vector)
        self._unit: np.ndarray | None = None  # the store's matrix as float32 (similar, fallback)
        self._queries: dict[str, np.ndarray] = {}  # query text -> vector, least recent first

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = shared_embedder()
        return self._embedder

    def digest(self) -> str:
        from index.embeddings.model import active_digest

        return active_digest()

    def store(self) -> EmbeddingStore:
        """The store as it is on disk now (re-read after a harvest or reindex rewrote it)."""
        from index.embeddings.store import EmbeddingStore

        path = embeddings_dir(self.settings) / f"embeddings-{self.digest()[:12]}.npz"
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if self._store is None or stamp != self._stamp:
            self._store = EmbeddingStore(embeddings_dir(self.settings), self.digest())
            self._stamp = stamp
            self._unit = None
        return self._store

    def encode_query(self, text: str) -> np.ndarray:
        """The query's vector; a query seen lately (the next page, a changed filter, the same
        question again) is not encoded twice."""
        vec = self._queries.pop(text, None)
        if vec is None:
            with _one_blas_thread():
                vec = self.embedder.encode([text])[0]
        self._queries[text] = vec  # most recent last
        while len(self._queries) > QUERY_CACHE:
            self._queries.pop(next(iter(self._queries)))
        return vec

    def forget_queries(self) -> None:
        """Empty the query-vector cache (bench/latency.py times queries never seen)."""
        self._queries.clear()

    def vectors(self, pmids: Sequence[str], records: RecordStore,
                limit: int | None = None) -> tuple[list[str], np.ndarray]:
        """(pmids that have a vector, their vectors): stored ones, then pending ones, then up to
        ``limit`` (all when None) embedded now from the record store's title and abstract."""
        from index.embeddings.model import DIM, record_text

        store = self.store()
        have, stored = store.get(list(pmids))
        found: dict[str, np.ndarray] = dict(zip(have, stored, strict=True))
        missing = [p for p in pmids if p not in found]
        for p in missing:
            if p in self._pending:
                found[p] = self._pending[p][1]
        missing = [p for p in missing if p not in found]
        if limit is not None:
            missing = missing[:limit]
        if missing:
            arts = records.get_many(missing)
            todo = [(p, record_text(arts[p].title, arts[p].abstract)) for p in missing
                    if p in arts]
            todo = [(p, t) for p, t in todo if t]
            if todo:
                vecs = self.embedder.encode([t for _, t in todo])
                for (p, t), v in zip(todo, vecs, strict=True):
                    self._pending[p] = (t, v)
                    found[p] = v
        out = [p for p in pmids if p in found]
        matrix = (np.array([found[p] for p in out], dtype=np.float32) if out
                  else np.zeros((0, DIM), np.float32))
        return out, matrix

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored vector as float32 (kept until the file changes)."""
        store = self.store()
        if self._unit is None:
            self._unit = store.matrix.astype(np.float32)
        return store.pmids, self._unit

    def flush(self) -> int:
        """Merge the vectors computed on the spot into the store file (re-read first, so what a
        harvest wrote meanwhile is kept). Returns how many were written."""
        if not self._pending:
            return 0
        from index.embeddings.store import EmbeddingStore

        items = {p: t for p, (t, _v) in self._pending.items()}
        try:
            store = EmbeddingStore(embeddings_dir(self.settings), self.digest())
            stale = store.stale(items)
            if stale:
                store.put(stale, [items[p] for p in stale],
                          np.array([self._pending[p][1] for p in stale], dtype=np.float32))
                store.save()
        except (OSError, KetlitError) as exc:
            # Only a cache: a read-only data dir or a damaged store costs the next search the
            # same on-the-spot embedding, never this search's answer.
            log.warning("embeddings computed during search not kept: %s", exc)
            stale = []
        self._pending.clear()
        self._store = None
        return len(stale)


class HybridReranker:
    """A Searcher re-ranker (see Searcher.rerankers); lexical requests pass through untouched.

    ``notices`` and ``total`` describe the last call (the Searcher runs one search at a time)."""

    def __init__(self, settings: Settings, records: Callable[[], RecordStore],
                 browse: Callable[[SearchRequest], Iterable[str]]) -> None:
        self.settings = settings
        self._records = records
        self._browse = browse  # the PMIDs a request's filters select (for the fallback)
        self.embeddings = Embeddings(settings)
        self.weight = WEIGHT
        self.notices: list[str] = []
        self.total: int | None = None

    def wants(self, req: SearchRequest) -> bool:
        self.notices, self.total = [], None
        return rank_of(req, self.settings) == "hybrid"

    def __call__(self, req: SearchRequest, ranked: list[tuple[str, float | None]]
                 ) -> list[tuple[str, float | None]]:
        self.notices, self.total = [], None
        if rank_of(req, self.settings) != "hybrid":
            return ranked
        require_semantic()
        qtext = query_text(req.query)
        if not qtext:
            return ranked
        if not ranked:
            return self._nearest(req, qtext)
        return self._fuse(ranked, self.embeddings.encode_query(qtext))

    def _fuse(self, ranked: list[tuple[str, float | None]], qv: np.ndarray
              ) -> list[tuple[str, float | None]]:
        head, tail = ranked[:TOP_K], ranked[TOP_K:]
        ids = [p for p, _ in head]
        have, vecs = self.embeddings.vectors(ids, self._records())
        cos_of = dict(zip(have, (vecs @ qv).tolist(), strict=True))
        lex = np.array([s or 0.0 for _, s in head], dtype=np.float64)
        # A candidate without text to embed (deleted meanwhile) ranks on its lexical score.
        floor = min(cos_of.values()) if cos_of else 0.0
        cos = np.array([cos_of.get(p, floor) for p in ids], dtype=np.float64)
        fused = fuse(lex, cos, self.weight)
        order = sorted(range(len(ids)), key=lambda i: (-fused[i], i))
        out: list[tuple[str, float | None]] = [(ids[i], float(fused[i])) for i in order]
        if tail:
            # Beyond the fused window: lexical order, scored on the same scale and below every
            # fused score (lexical share only, at most 0), so scores fall as ranks rise.
            lo, hi = float(lex.min()), float(lex.max())
            span = hi - lo if hi - lo > 1e-12 else 1.0
            out += [(p, (1.0 - self.weight) * (min((s or 0.0) - lo, 0.0) / span) - 1e-6)
                    for p, s in tail]
        return out

    def _nearest(self, req: SearchRequest, qtext: str) -> list[tuple[str, float | None]]:
        """No lexical match: the records nearest the query by embedding among those the filters
        select (at most a page window's worth)."""
        candidates = list(self._browse(req))
        if not candidates:
            return []
        pmids, matrix = self.embeddings.all_vectors()
        row = {p: i for i, p in enumerate(pmids)}
        stored = [p for p in candidates if p in row]
        missing = [p for p in candidates if p not in row]
        qv = self.embeddings.encode_query(qtext)
        scores: dict[str, float] = {}
        if stored:
            rows = np.fromiter((row[p] for p in stored), dtype=np.int64, count=len(stored))
            scores.update(zip(stored, (matrix[rows] @ qv).tolist(), strict=True))
        left_out = 0
        if missing:
            got, vecs = self.embeddings.vectors(missing, self._records(), limit=LAZY_LIMIT)
            scores.update(zip(got, (vecs @ qv).tolist(), strict=True))
            left_out = len(missing) - len(got)
        n = max(TOP_K, req.page * req.limit)
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:n]
        self.total = len(best)
        self.notices.append("no record matched the query's words; showing the records nearest "
                            "to it in meaning (hybrid ranking, by embedding)")
        if left_out:
            self.notices.append(f"{left_out} record(s) have no embedding yet and were not "
                                "compared: run `ketlit reindex` to embed them")
        return [(p, float(s)) for p, s in best]

    def similar(self, pmid: str, limit: int, records: RecordStore
                ) -> list[tuple[str, float]] | None:
        """Nearest records to ``pmid`` by stored embedding, or None when embeddings cannot
        answer (no extra, the record not embedded, or the store covering too little)."""
        if not available():
            return None
        pmids, matrix = self.embeddings.all_vectors()
        if not pmids or len(pmids) < SIMILAR_COVERAGE * records.count():
            return None
        row = {p: i for i, p in enumerate(pmids)}
        i = row.get(pmid)
        if i is None:
            return None
        cos = matrix @ matrix[i]
        cos[i] = -np.inf
        k = min(limit * 2 + 10, len(pmids) - 1)  # spare rows for records deleted meanwhile
        if k <= 0:
            return []
        top = np.argpartition(-cos, k - 1)[:k]
        top = top[np.lexsort((top, -cos[top]))]
        return [(pmids[j], float(cos[j])) for j in top]

    def close(self) -> None:
        self.embeddings.flush()


def browse_request(req: SearchRequest) -> SearchRequest:
    """The request's filters alone (no words), lexically: what the fallback compares with."""
    return replace(req, query="", rank="lexical")


__all__ = ["HybridReranker", "WEIGHT", "browse_request", "check_rank", "embeddings_dir",
           "query_text",
           "rank_of", "require_semantic"]
