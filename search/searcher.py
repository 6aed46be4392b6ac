"""Searching: queries + filters -> ranked hits with facets, snippets and suggestions.

A Searcher holds one Whoosh reader (a consistent snapshot of the index: a harvest committing
meanwhile is seen by the next Searcher, or after ``refresh()``, never half-way by this one) and
the record store, from which the hits' Articles come. Queries are compiled by search.query and
evaluated by index.whoosh.engine (BM25 over Whoosh's postings with numpy, facets from per-snapshot
arrays). Whoosh objects never leave search/; callers get Articles, plain numbers and strings.
"""

from __future__ import annotations

import contextlib
import html
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh import query as wq
from whoosh.scoring import BM25F

from index.analysis import PROTECTED, TOKEN_RE, analyse, fold
from index.article import Article
from index.errors import IndexMissingError, NotFoundError, QueryError, UsageError
from index.evidence import (
    EVIDENCE_FACET_NAMES,
    LABEL_FACETS,
    evidence_key,
    matches_evidence,
    normalise_labels,
)
from index.settings import Settings
from index.store import RecordStore
from index.whoosh.analysis import BiomedTokenizer
from index.whoosh.compile import to_whoosh
from index.whoosh.engine import MAX_EXPANSIONS, Evaluator, IndexArrays, sort_by, top_k
from index.whoosh.writer import live_index_dir, open_index
from search.query import BROWSE, CompiledQuery, QueryBuilder
from search.vocabulary import Vocabulary, load_vocabulary

# BM25 parameters: the textbook defaults; the relevance benchmark (bench/README.md) found the
# neighbourhood flat (k1 0.7-1.6, b 0.4-0.9 within 0.004 nDCG@10), so nothing is fitted here.
BM25_K1 = 1.2
BM25_B = 0.75

SORTS = ("relevance", "newest", "oldest")
# The design's three facet groups, plus "retracted" ({"true": n, "false": m}), an extension,
# and the evidence annotations' (index.evidence: design, route, drug, condition, phase,
# participants in sample-size bands).
FACET_KEYS = ("topic", "year", "publication_type", "retracted", *EVIDENCE_FACET_NAMES)
SNIPPET_CHARS = 240


# How many relevance-ordered hits a re-ranker sees at least (page windows are smaller).
RERANK_WINDOW = 100
# A re-ranker: (request, [(pmid, score), ...] in relevance order) -> the same pairs reordered.
ReRanker = Callable[["SearchRequest", list[tuple[str, "float | None"]]],
                    Sequence[tuple[str, "float | None"]]]


@dataclass
class SearchRequest:
    query: str = ""  # "" or "*": browse every record passing the filters
    match: str = "all"
    sort: str = "relevance"
    limit: int = 20
    page: int = 1
    topics: Sequence[str] = ()
    year_from: int | None = None
    year_to: int | None = None
    types: Sequence[str] = ()
    languages: Sequence[str] = ()
    has_abstract: bool = False
    exclude_retracted: bool = False
    # Evidence annotations (index.evidence): labels, any of them per facet; people studied.
    design: Sequence[str] = ()
    route: Sequence[str] = ()
    drug: Sequence[str] = ()
    condition: Sequence[str] = ()
    phase: Sequence[str] = ()
    min_participants: int | None = None
    rank: str | None = None  # "lexical" or "hybrid"; None: the config's search.rank


@dataclass
class Hit:
    article: Article
    score: float | None
    snippet: str | None  # HTML-escaped, matched terms in <mark>...</mark>

    def to_json(self) -> dict[str, Any]:
        a = self.article
        return {
            "pmid": a.pmid,
            "title": a.title or a.book_title or a.vernacular_title,
            "authors": a.author_names,
            "journal": a.journal or a.book_title,
            "year": a.pub_year,
            "doi": a.doi,
            "topics": sorted(a.topics),
            "publication_types": list(a.publication_types),
            "retracted": a.retracted,
            "score": round(self.score, 4) if self.score is not None else None,
            "snippet": self.snippet,
            # evidence annotations (index/annotations), computed when the record was stored
            "annotations": a.annotations,
        }


@dataclass
class SearchResponse:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    # Limits the search hit that make the result incomplete (a truncation past PubMed's 600
    # variants): said, never silently cut.
    notices: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_json(self, short: bool = False) -> dict[str, Any]:
        results = [h.to_json() for h in self.hits]
        if short:
            return {"total": self.total, "results": results}
        out: dict[str, Any] = {
            "query": self.query, "total": self.total, "page": self.page,
            "per_page": self.per_page, "results": results,
            "facets": {k: dict(self.facets.get(k, {}))
                       for k in FACET_KEYS},
        }
        if self.suggestion:
            out["suggestion"] = self.suggestion
        if self.notices:
            out["notices"] = list(self.notices)
        return out


@lru_cache(maxsize=200_000)
def _forms(word: str) -> frozenset[str]:
    """The analysed forms of one written word (cached: abstracts repeat their vocabulary)."""
    return frozenset(t.text for t in analyse(word, stop=False, protected=PROTECTED))


@lru_cache(maxsize=256)
def _prefix_re(terms: frozenset[str]) -> re.Pattern[str]:
    prefixes = sorted({t[:3] for t in terms if t}, key=len, reverse=True)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, prefixes)) + ")", re.I)


def make_snippet(text: str, terms: frozenset[str], width: int = SNIPPET_CHARS) -> str:
    """The passage of ``text`` with the most distinct matched words, matches in <mark>, the rest
    HTML-escaped. Words are matched through the index's analysis (a search for "depression"
    marks "depressive"), but only whole written words are marked.

    Our own rather than Whoosh's highlighter: that one re-analyses every abstract token by token
    through the analyzer pipeline, which cost about 75 ms per page of 20 hits (measured).
    """
    spans: list[tuple[int, int, frozenset[str]]] = []
    if terms:
        # Only words starting like a query term are analysed (a stem starts like its words);
        # scanning every word of every abstract cost ~10 ms per page.
        last_end = -1
        for c in _prefix_re(terms).finditer(text):
            if c.start() < last_end:
                continue
            m = TOKEN_RE.match(text, c.start())
            if m is None:
                continue
            last_end = m.end()
            hit = _forms(m.group(0)) & terms
            if hit:
                spans.append((m.start(), m.end(), hit))
    if not spans:
        if len(text) <= width:
            return html.escape(text, quote=False)
        return html.escape(text[:width].rsplit(" ", 1)[0], quote=False) + " \u2026"
    best, best_n = 0, -1
    for a in range(len(spans)):
        seen: set[str] = set()
        for b in range(a, len(spans)):
            if spans[b][1] - spans[a][0] > width:
                break
            seen |= spans[b][2]
        if len(seen) > best_n:
            best, best_n = a, len(seen)
    start = spans[best][0]
    lead, end = snippet_window(text, start, spans[best][1], width)
    out = ["\u2026 " if lead > 0 else ""]
    pos = lead
    for a, b, _hit in spans:
        if a < lead or b > end:
            continue
        out.append(html.escape(text[pos:a], quote=False))
        out.append("<mark>" + html.escape(text[a:b], quote=False) + "</mark>")
        pos = b
    out.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        out.append(" \u2026")
    return "".join(out)


def snippet_window(text: str, start: int, first_end: int, width: int) -> tuple[int, int]:
    """[lead, end) around a match at [start, first_end): some context before it, about ``width``
    characters in all, and both edges on word boundaries (a snippet never starts or ends inside
    a word; when no space is near, the edge moves outward to the next one)."""
    lead = max(0, start - width // 5)
    if lead > 0:
        space = max(text.rfind(" ", 0, lead + 1), text.rfind("\n", 0, lead + 1))
        if space >= 0 and start - space < width // 2:
            lead = space + 1
        else:  # no space close before: start at the first word after lead (or the match itself)
            nxt = text.find(" ", lead, start)
            lead = nxt + 1 if nxt >= 0 else start
    end = min(len(text), lead + width)
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", first_end, end)
        if space > first_end:
            end = space
        else:  # the match runs to the edge: finish the word it is in
            nxt = text.find(" ", end)
            end = nxt if nxt >= 0 else len(text)
    return lead, end


class Searcher:
    """Search one snapshot of the index. Safe to share between threads (calls are serialised).

    With ``index.backend: solr``, ``Searcher(settings)`` is a search.solr_searcher.SolrSearcher:
    the same requests and answers over the SolrCloud collection."""

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
        self._analyzer = BiomedTokenizer(stem=True, protected=PROTECTED)
        # The re-rank hook: each takes the request and the (pmid, score) pairs in relevance
        # order (at least RERANK_WINDOW of them) and returns them reordered or rescored.
        self.rerankers: list[ReRanker] = []
        from search.hybrid import HybridReranker, browse_request

        self.hybrid = HybridReranker(
            settings, records=lambda: self.store,
            browse=lambda req: self.iter_matching_pmids(browse_request(req)))
        self.rerankers.append(self.hybrid)
        self.store = RecordStore(settings.store_path, readonly=True)
        self._ix: Any = None
        self._s: Any = None
        try:
            self._open()
        except BaseException:
            self.store.close()
            raise

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
                if self.store.count() == 0:
                    raise IndexMissingError(
                        "the index is empty: run `ketlit harvest` or `ketlit ingest FILE` first")
                raise IndexMissingError(
                    f"the index at {self.settings.index_dir} holds none of the "
                    f"{self.store.count()} stored records: run `ketlit reindex`")
            self._ix, self._s, self._dir = ix, s, live_index_dir(self.settings)
            self._arrays = IndexArrays(s)
            self._engine = Evaluator(self._arrays, k1=BM25_K1, b=BM25_B)
            self._pmid_col = s.reader().column_reader("pmid")
            self._spelling: list[str] | None = None  # read on the first "did you mean"
            return
        raise IndexMissingError(f"the index at {self.settings.index_dir} kept changing while "
                                f"being opened ({last}); try again")

    def refresh(self) -> bool:
        """Move to the newest committed index (for long-lived servers). True if it changed."""
        with self._lock:
            if self._dir == live_index_dir(self.settings) and self._s.up_to_date():
                return False
            old_ix, old_s = self._ix, self._s
            self._open()
            old_s.close()
            old_ix.close()
            return True

    def close(self) -> None:
        with self._lock:
            for reranker in self.rerankers:  # e.g. hybrid's embeddings computed on the spot
                closer = getattr(reranker, "close", None)
                if closer is not None:
                    closer()
            if self._s is not None:
                self._s.close()
                self._ix.close()
                self._s = None
            self.store.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def doc_count(self) -> int:
        return int(self._s.doc_count())

    # -- searching ----------------------------------------------------------------------------

    def search(self, req: SearchRequest) -> SearchResponse:
        """One page of hits with facets over the whole result set. An empty query (or ``*``)
        browses: every record passing the filters, newest first unless oldest is asked for."""
        _validate(req)
        with self._lock:
            start = (req.page - 1) * req.limit
            compiled, mask, top = self._pipeline(req, start + req.limit)
            matched = int(np.count_nonzero(mask))
            # A re-ranker may answer when nothing matched (hybrid's nearest by embedding).
            total = matched or self._rerank_state()[1] or 0
            page = top[start:start + req.limit] if start < total else []
            hits = self._hits(page, compiled)
            notices = self._notices() + self._rerank_state()[0]
            facets = self._facets(mask)
            suggestion = self._suggest(compiled, req) if matched == 0 else None
        return SearchResponse(query=req.query, total=total, page=req.page, per_page=req.limit,
                              hits=hits, facets=facets, suggestion=suggestion, notices=notices)

    def rank(self, req: SearchRequest) -> list[tuple[str, float | None]]:
        """The page's (pmid, score) pairs only: no facets, snippets or records (batch runs)."""
        _validate(req)
        with self._lock:
            start = (req.page - 1) * req.limit
            _compiled, _mask, ranked = self._pipeline(req, start + req.limit)
            return list(ranked[start:])

    def iter_matching_pmids(self, req: SearchRequest) -> Iterator[str]:
        """Every match, in the request's sort order (for exports; no paging)."""
        _validate(req)
        with self._lock:
            _compiled, _mask, ranked = self._pipeline(req, None)
            out = [pmid for pmid, _s in ranked]
        yield from out

    def all_facets(self) -> dict[str, dict[str, int]]:
        """Facet counts over every indexed record (for stats)."""
        with self._lock:
            return self._facets(self._arrays.live)

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
        counts = Counter(t.text for t in self._analyzer(text))
        with self._lock:
            scored = []
            for term, tf in counts.items():
                df = self._s.doc_frequency("text", term)
                if df < 2:  # only in this record: says nothing about others
                    continue
                scored.append((tf * self._s.idf("text", term), term))
            scored.sort(reverse=True)
            key = scored[:25]
            if not key:
                return SearchResponse(query=f"similar:{pmid}", total=0, page=1, per_page=limit)
            top_w = key[0][0]
            q = wq.AndNot(wq.Or([wq.Term("text", t, boost=w / top_w) for w, t in key]),
                          wq.Term("pmid", pmid))
            mask, score = self._run(q)
            ranked = [(self._pmid(d), s) for d, s in self._order(mask, score, "relevance", limit)]
            hits = self._hits(ranked, None)
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

    def _pipeline(self, req: SearchRequest, n: int | None
                  ) -> tuple[CompiledQuery, np.ndarray, list[tuple[str, float | None]]]:
        """The one search pipeline of single, batch and export searches: compile, filter, run,
        order (the first ``n``, or all), then the re-rankers (``self.rerankers``, in order) on
        relevance-ordered queries. Returns the compiled query, the match mask and (pmid, score)
        pairs in final order; the callers page and add snippets."""
        compiled = self._compile(req)
        mask, score = self._run(self._with_filters(to_whoosh(compiled.plan), req))
        sort = _effective_sort(req)
        active = [r for r in self.rerankers if getattr(r, "wants", lambda _req: True)(req)]
        rerank = bool(active) and sort == "relevance" and not is_browse(req.query)
        window = n if not rerank or n is None else max(n, RERANK_WINDOW)
        ranked = [(self._pmid(d), s) for d, s in self._order(mask, score, sort, window)]
        if rerank:
            for reranker in active:
                ranked = list(reranker(req, ranked))
        return compiled, mask, ranked if n is None else ranked[:n]

    def _compile(self, req: SearchRequest) -> CompiledQuery:
        if is_browse(req.query):
            # Browsing: the filters alone choose; nothing to rank, mark or correct.
            return BROWSE
        return self.builder.build(req.query, req.match)

    def _with_filters(self, q: wq.Query, req: SearchRequest) -> wq.Query:
        filters: list[wq.Query] = []
        if req.topics:
            check_topics(self.settings, req.topics)
            filters.append(_any("topic", req.topics))
        if req.year_from is not None or req.year_to is not None:
            filters.append(wq.NumericRange("year", req.year_from, req.year_to))
        if req.types:
            filters.append(_any("pubtype", [self.vocab.publication_type(n).lower()
                                            for n in req.types]))
        if req.languages:
            filters.append(_any("lang", [self.vocab.language(x) for x in req.languages]))
        if req.has_abstract:
            filters.append(wq.Term("hasabs", True))
        filters.extend(evidence_filters(req))
        if not filters and not req.exclude_retracted:
            return q
        # Filters only select: a constant score of 0 keeps them out of the ranking.
        parts = [q] + [wq.ConstantScoreQuery(f, 0.0) for f in filters]
        combined: wq.Query = wq.And(parts) if len(parts) > 1 else q
        if req.exclude_retracted:
            combined = wq.AndNot(combined, wq.Term("retracted", True))
        return combined

    def _order(self, mask: np.ndarray, score: np.ndarray, sort: str,
               n: int | None) -> list[tuple[int, float | None]]:
        if sort == "relevance":
            docs = top_k(mask, score, n)
            return [(int(d), float(score[d])) for d in docs]
        docs = sort_by(mask, self._arrays.numeric_column("date"), sort == "newest", n)
        return [(int(d), None) for d in docs]

    def _run(self, q: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """The engine's evaluation of ``q`` within the configured time budget."""
        budget = self.settings.search.timeout_s
        return self._engine.run(q, deadline=time.monotonic() + budget, budget_s=budget)

    def _rerank_state(self) -> tuple[list[str], int | None]:
        """What the last run's re-rankers said (notices) and, when they answered a search that
        matched nothing, how many records they offer instead."""
        notices: list[str] = []
        total: int | None = None
        for r in self.rerankers:
            notices += list(getattr(r, "notices", ()))
            total = getattr(r, "total", None) or total
        return notices, total

    def _notices(self) -> list[str]:
        """What the last engine run had to cut, in words a searcher can act on."""
        out = []
        for _field, text in dict.fromkeys(self._engine.truncated):
            word = text.split(":", 1)[1] if ":" in text else text
            out.append(f"truncation {word}* matches more than {MAX_EXPANSIONS} words; as in "
                       f"PubMed, only the first {MAX_EXPANSIONS} were searched: type more "
                       "letters before '*' to search them all")
        return list(dict.fromkeys(out))

    def _pmid(self, docnum: int) -> str:
        v = self._pmid_col[docnum]
        return v.decode() if isinstance(v, bytes) else str(v)

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

    def _facets(self, mask: np.ndarray) -> dict[str, dict[str, int]]:
        ids, n_keys, tables = self._arrays.facet_tables()
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
        n_retracted = int(np.count_nonzero(mask & self._arrays.flag("retracted")))
        out["retracted"] = {"true": n_retracted,
                            "false": int(np.count_nonzero(mask)) - n_retracted}
        return out

    def _suggest(self, compiled: CompiledQuery, req: SearchRequest) -> str | None:
        """"Did you mean": each unknown word replaced by the closest indexed word, if that finds
        something."""
        text = req.query
        changed = False
        for raw in compiled.raw_words:
            word = fold(raw)
            if not correctable(raw, self.vocab):
                continue
            if self._s.doc_frequency("spell", word) > 0:
                continue
            best = self._closest_word(word)
            if best is not None:
                text = _replace_word(text, raw, best)
                changed = True
        if not changed:
            return None
        try:
            alt = self.builder.build(text, req.match)
        except QueryError:
            return None
        alt_mask, _ = self._run(self._with_filters(to_whoosh(alt.plan), req))
        if not alt_mask.any():
            return None
        return text


    def _closest_word(self, word: str, maxdist: int = 2) -> str | None:
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
        return best


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


def evidence_filters(req: SearchRequest) -> list[wq.Query]:
    """The evidence-annotation filters of a request: per facet any of its labels (whole
    values in ``keys``, as the [design]-style tags), and at least N people studied. A label
    the vocabulary does not know is a UsageError naming the known ones."""
    out: list[wq.Query] = []
    for name in LABEL_FACETS:
        values = getattr(req, name) or ()
        if not values:
            continue
        try:
            labels = normalise_labels(name, list(values))
        except ValueError as exc:
            raise UsageError(f"--{name}: {exc}") from None
        out.append(_any("keys", [evidence_key(name, v) for v in labels]))
    if req.min_participants is not None:
        out.append(wq.NumericRange("participants", req.min_participants, None))
    return out


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


def _any(fieldname: str, values: Sequence[str]) -> wq.Query:
    terms = [wq.Term(fieldname, v) for v in values]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


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
