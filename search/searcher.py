"""Searching: queries + filters -> ranked hits with facets, snippets and suggestions.

A Searcher holds one backend (index/backend.py's SearchBackend: the embedded Whoosh index,
index/whoosh/backend.py, a consistent snapshot seen until ``refresh()``; or the SolrCloud
collection, index/solr/searching.py) and the record store, from which the hits' Articles come.
Every search runs one pipeline (Searcher._pipeline): parse and lower the query (search.query),
then the backend filters, runs, orders and pages it, the re-rankers (Searcher.rerankers) reorder
the top, and snippets are made here from the stored abstracts. Callers get Articles, plain
numbers and strings; no engine's objects leave the backends.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from index import query_plan as qp
from index.analysis import PROTECTED, analyse, fold
from index.article import Article
from index.backend import BackendResult, Filters, SearchBackend
from index.errors import NotFoundError, QueryError, UsageError
from index.evidence import (
    LABEL_FACETS,
    matches_evidence,
    normalise_labels,
)
from index.settings import Settings
from index.store import RecordStore
from search.query import BROWSE, CompiledQuery, QueryBuilder
from search.request import FACET_KEYS, SORTS, Hit, SearchRequest, SearchResponse  # noqa: F401 (re-exported)
from search.snippets import SNIPPET_CHARS, make_snippet, snippet_window  # noqa: F401 (re-exported)
from search.vocabulary import Vocabulary, load_vocabulary

# How many relevance-ordered hits a re-ranker sees at least (page windows are smaller).
RERANK_WINDOW = 100
# A re-ranker: (request, [(pmid, score), ...] in relevance order) -> the same pairs reordered.
ReRanker = Callable[["SearchRequest", list[tuple[str, "float | None"]]],
                    Sequence[tuple[str, "float | None"]]]


class Searcher:
    """Search one snapshot of the index. Safe to share between threads (calls are serialised).

    The backend is the configured one (``index.backend``): index.whoosh.backend (embedded) or,
    with ``solr``, index.solr.searching over the SolrCloud collection (``Searcher(settings)`` is
    then a search.solr_searcher.SolrSearcher): the same requests and answers either way."""

    def __new__(cls, settings: Settings, vocabulary: Vocabulary | None = None) -> Searcher:
        if cls is Searcher and settings.index.backend == "solr":
            from search.solr_searcher import SolrSearcher

            return super().__new__(SolrSearcher)
        return super().__new__(cls)

    def __init__(self, settings: Settings, vocabulary: Vocabulary | None = None) -> None:
        self.settings = settings
        self.vocab = vocabulary or load_vocabulary()
        self.builder = QueryBuilder(self.vocab)
        self._lock = threading.RLock()
        # The re-rank hook: each takes the request and the (pmid, score) pairs in relevance
        # order (at least RERANK_WINDOW of them) and returns them reordered or rescored.
        self.rerankers: list[ReRanker] = []
        from search.hybrid import HybridReranker, browse_request

        self.hybrid = HybridReranker(
            settings, records=lambda: self.store,
            browse=lambda req: self.iter_matching_pmids(browse_request(req)))
        self.rerankers.append(self.hybrid)
        self.store = RecordStore(settings.store_path, readonly=True)
        try:
            self.backend: SearchBackend = self._open_backend()
        except BaseException:
            self.store.close()
            raise

    def _open_backend(self) -> SearchBackend:
        if self.settings.index.backend == "solr":
            from index.solr.searching import SolrBackend

            return SolrBackend(self.settings, stored=self.store.count)
        from index.whoosh.backend import WhooshBackend

        return WhooshBackend(self.settings, stored=self.store.count)

    # -- lifecycle ----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Move to the newest committed index (for long-lived servers). True if it changed."""
        with self._lock:
            return self.backend.refresh()

    def close(self) -> None:
        with self._lock:
            for reranker in self.rerankers:  # e.g. hybrid's embeddings computed on the spot
                closer = getattr(reranker, "close", None)
                if closer is not None:
                    closer()
            self.backend.close()
            self.store.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def doc_count(self) -> int:
        return self.backend.doc_count()

    # -- searching ----------------------------------------------------------------------------

    def search(self, req: SearchRequest) -> SearchResponse:
        """One page of hits with facets over the whole result set. An empty query (or ``*``)
        browses: every record passing the filters, newest first unless oldest is asked for."""
        _validate(req)
        with self._lock:
            compiled, result = self._pipeline(req, (req.page - 1) * req.limit, req.limit,
                                              facets=True)
            matched = result.total
            notices, offered = self._rerank_state()
            # A re-ranker may answer when nothing matched (hybrid's nearest by embedding).
            total = matched or offered or 0
            hits = self._hits(result.ranked, compiled)
            suggestion = self._suggest(compiled, req) if matched == 0 else None
        return SearchResponse(query=req.query, total=total, page=req.page, per_page=req.limit,
                              hits=hits, facets=result.facets, suggestion=suggestion,
                              notices=result.notices + notices)

    def rank(self, req: SearchRequest) -> list[tuple[str, float | None]]:
        """The page's (pmid, score) pairs only: no facets, snippets or records (batch runs)."""
        _validate(req)
        with self._lock:
            _compiled, result = self._pipeline(req, (req.page - 1) * req.limit, req.limit)
            return list(result.ranked)

    def iter_matching_pmids(self, req: SearchRequest) -> Iterator[str]:
        """Every match, in the request's sort order (for exports; no paging)."""
        _validate(req)
        with self._lock:
            _compiled, result = self._pipeline(req, 0, None)
            out = [pmid for pmid, _s in result.ranked]
        yield from out

    def all_facets(self) -> dict[str, dict[str, int]]:
        """Facet counts over every indexed record (for stats)."""
        with self._lock:
            return self.backend.search(qp.Every(), Filters(), "newest", 0, 0).facets

    def get(self, pmid: str) -> Article:
        pmid = pmid.strip()
        art = self.store.get(pmid)
        if art is None:
            raise NotFoundError(f"no record with PMID {pmid} in the index "
                                "(`ketlit search` finds records; `ketlit harvest` adds them)")
        return art

    def similar(self, pmid: str, limit: int = 10) -> SearchResponse:
        """More like this: the nearest records by stored embedding when the embedding store
        covers the index (search/hybrid.py), else the record's most distinctive words, weighted
        by tf-idf."""
        art = self.get(pmid)
        with self._lock:
            near = self.hybrid.similar(art.pmid, limit, self.store)
            if near is not None:
                hits = self._hits(near, None)[:limit]
                return SearchResponse(query=f"similar:{pmid}", total=len(hits), page=1,
                                      per_page=limit, hits=hits)
        text = " ".join(x for x in (art.title, art.title, art.abstract, " ".join(art.keywords),
                                    " ".join(art.mesh_terms)) if x)
        counts = Counter(t.text for t in analyse(text, protected=PROTECTED))
        with self._lock:
            key = sorted(self.backend.term_weights("text", counts), reverse=True)[:25]
            if not key:
                return SearchResponse(query=f"similar:{pmid}", total=0, page=1, per_page=limit)
            top_w = key[0][0]
            plan = qp.AndNot(qp.Or(tuple(qp.Term("text", t, boost=w / top_w) for w, t in key)),
                             qp.Term("pmid", pmid))
            result = self.backend.search(plan, Filters(), "relevance", 0, limit, facets=False)
            hits = self._hits(result.ranked, None)
        return SearchResponse(query=f"similar:{pmid}", total=len(hits), page=1, per_page=limit,
                              hits=hits)

    def new_records(self, since: date | None = None, topic: str | None = None,
                    evidence: Mapping[str, Any] | None = None) -> SearchResponse:
        """Records that entered the store since a date, or since the last harvest started;
        ``evidence``: the evidence filters (SearchRequest's design ... min_participants)."""
        if topic is not None:
            check_topics(self.settings, [topic], "new --topic")
        evidence = {k: v for k, v in (evidence or {}).items() if v not in (None, (), [])}
        _check_evidence(evidence)
        if since is not None:
            stamp = since.isoformat()
        else:
            stamp = self.store.get_meta("last_harvest_started") or ""
        pmids = self.store.new_since(stamp, topic)
        arts = self.store.get_many(pmids)
        hits = [Hit(arts[p], None, None) for p in pmids if p in arts
                and (not evidence or matches_evidence(arts[p].annotations, evidence))]
        label = f"new since {stamp or 'the beginning'}" + (f" in {topic}" if topic else "")
        return SearchResponse(query=label, total=len(hits), page=1, per_page=max(1, len(hits)),
                              hits=hits)

    # -- internals -----------------------------------------------------------------------------

    def _pipeline(self, req: SearchRequest, start: int, limit: int | None, *,
                  facets: bool = False) -> tuple[CompiledQuery, BackendResult]:
        """The one search pipeline of single, batch, web and export searches: compile (parse
        and lower), filter, run, order and page (the backend), then the re-rankers
        (``self.rerankers``, in order) on relevance-ordered queries, which see at least
        RERANK_WINDOW hits from the top and are paged after. Returns the compiled query and
        the backend's answer with ``ranked`` the requested window in final order."""
        compiled = self._compile(req)
        filters = self._filters(req)
        sort = _effective_sort(req)
        # Every re-ranker is asked (``wants`` also clears what it said about the last search).
        active = [r for r in self.rerankers if getattr(r, "wants", lambda _req: True)(req)]
        if not (active and sort == "relevance" and not is_browse(req.query)):
            result = self.backend.search(compiled.plan, filters, sort, start, limit,
                                         facets=facets)
            return compiled, result
        window = None if limit is None else max(start + limit, RERANK_WINDOW)
        result = self.backend.search(compiled.plan, filters, sort, 0, window, facets=facets)
        ranked = result.ranked
        for reranker in active:
            ranked = list(reranker(req, ranked))
        result.ranked = ranked[start:] if limit is None else ranked[start:start + limit]
        return compiled, result

    def _compile(self, req: SearchRequest) -> CompiledQuery:
        if is_browse(req.query):
            # Browsing: the filters alone choose; nothing to rank, mark or correct.
            return BROWSE
        return self.builder.build(req.query, req.match)

    def _filters(self, req: SearchRequest) -> Filters:
        """The request's filters in the index's values (vocabulary aliases resolved)."""
        if req.topics:
            check_topics(self.settings, req.topics)
        evidence: dict[str, Any] = {}
        for name in LABEL_FACETS:
            values = getattr(req, name) or ()
            if not values:
                continue
            try:
                evidence[name] = tuple(normalise_labels(name, list(values)))
            except ValueError as exc:
                raise UsageError(f"--{name}: {exc}") from None
        return Filters(
            topics=tuple(req.topics), year_from=req.year_from, year_to=req.year_to,
            types=tuple(self.vocab.publication_type(n).lower() for n in req.types),
            languages=tuple(self.vocab.language(x) for x in req.languages),
            has_abstract=req.has_abstract, exclude_retracted=req.exclude_retracted,
            min_participants=req.min_participants, **evidence)

    def _rerank_state(self) -> tuple[list[str], int | None]:
        """What the last run's re-rankers said (notices) and, when they answered a search that
        matched nothing, how many records they offer instead."""
        notices: list[str] = []
        total: int | None = None
        for r in self.rerankers:
            notices += list(getattr(r, "notices", ()))
            total = getattr(r, "total", None) or total
        return notices, total

    def _hits(self, ranked: Sequence[tuple[str, float | None]],
              compiled: CompiledQuery | None) -> list[Hit]:
        ids = [pmid for pmid, _ in ranked]
        arts = self.store.get_many(ids)
        hits = []
        for (_d, score), pmid in zip(ranked, ids, strict=True):
            art = arts.get(pmid)
            if art is None:  # deleted from the store after this snapshot was taken
                continue
            snippet = self._snippet(art, compiled) if compiled is not None else None
            hits.append(Hit(art, score, snippet))
        return hits

    def _snippet(self, art: Article, compiled: CompiledQuery) -> str | None:
        text = art.abstract or art.title
        if not text:
            return None
        return make_snippet(text, compiled.highlight_terms)

    def _suggest(self, compiled: CompiledQuery, req: SearchRequest) -> str | None:
        """"Did you mean": each unknown word replaced by the closest indexed word, if that finds
        something."""
        text = req.query
        changed = False
        for raw in compiled.raw_words:
            word = fold(raw)
            if not correctable(raw, self.vocab):
                continue
            if self.backend.known_word(word):
                continue
            best = self.backend.closest_word(word)
            if best is not None:
                text = _replace_word(text, raw, best)
                changed = True
        if not changed:
            return None
        try:
            alt = self.builder.build(text, req.match)
        except QueryError:
            return None
        found = self.backend.search(alt.plan, self._filters(req), "relevance", 0, 0,
                                    facets=False)
        return text if found.total else None


BROWSE_QUERIES = ("", "*")


def correctable(raw: str, vocab: Vocabulary) -> bool:
    """May "did you mean" replace this typed word? Not short words or numbers, and not acronyms
    typed in capitals (PTSD, TRD) or words the vocabulary knows: they are meant as typed, and
    "correcting" PTSD to "post" helps nobody."""
    word = fold(raw)
    return (word.isalpha() and len(word) >= 4 and not (raw.isupper() and len(raw) <= 6)
            and not vocab.expansions((word,)))


def check_topics(settings: Settings, topics: Sequence[str], what: str = "--topic") -> None:
    """An unknown topic is an error naming it and the configured ones, never "no results"."""
    for t in topics:
        if t not in settings.topics:
            known = ", ".join(settings.topics) or "none: add topics to config.yaml"
            raise UsageError(f"{what}: no topic named {t!r} (configured topics: {known})")


def is_browse(query: str | None) -> bool:
    """An empty query (or a lone ``*``) means "every record passing the filters"."""
    return (query or "").strip() in BROWSE_QUERIES


def _effective_sort(req: SearchRequest) -> str:
    # Every browsed record scores the same, so "relevance" would be index order: newest first
    # is what a researcher scanning a topic expects (PubMed's default for a filter-only list).
    if req.sort == "relevance" and is_browse(req.query):
        return "newest"
    return req.sort


def _check_evidence(filters: Mapping[str, Any]) -> None:
    """Unknown labels or a negative --min-participants: one UsageError naming the option."""
    for name in LABEL_FACETS:
        try:
            normalise_labels(name, list(filters.get(name) or ()))
        except ValueError as exc:
            raise UsageError(f"--{name}: {exc}") from None
    low = filters.get("min_participants")
    if low is not None and low < 0:
        raise UsageError(f"--min-participants: must be 0 or more, got {low}")


def _replace_word(text: str, old: str, new: str) -> str:
    i = text.find(old)
    if i < 0:
        i = text.lower().find(old.lower())
    return text if i < 0 else text[:i] + new + text[i + len(old):]


def _validate(req: SearchRequest) -> None:
    if req.match not in ("all", "any"):
        raise UsageError(f"--match: expected all or any, got {req.match!r}")
    if req.sort not in SORTS:
        raise UsageError(f"--sort: expected one of {', '.join(SORTS)}, got {req.sort!r}")
    if req.limit < 1:
        raise UsageError(f"--limit: must be 1 or more, got {req.limit}")
    if req.page < 1:
        raise UsageError(f"--page: must be 1 or more, got {req.page}")
    if req.min_participants is not None and req.min_participants < 0:
        raise UsageError(f"--min-participants: must be 0 or more, got {req.min_participants}")
    if req.rank not in (None, "lexical", "hybrid"):
        raise UsageError(f"--rank: expected lexical or hybrid, got {req.rank!r}")
    if req.year_from is not None and req.year_to is not None and req.year_from > req.year_to:
        raise UsageError(f"--from {req.year_from} is after --to {req.year_to}")


@contextlib.contextmanager
def open_searcher(settings: Settings) -> Iterator[Searcher]:
    """A Searcher on the live index; IndexMissingError (naming the remedy) if there is none."""
    searcher = Searcher(settings)
    try:
        yield searcher
    finally:
        searcher.close()


__all__ = ["Hit", "SearchRequest", "SearchResponse", "Searcher", "is_browse", "make_snippet",
           "open_searcher"]
