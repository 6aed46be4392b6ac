"""Searching a SolrCloud collection (``index.backend: solr``) with the same requests and answers
as the Whoosh Searcher.

The query text goes through the same parser and analysis (search.query), and the compiled tree is
written in Solr's syntax (index.solr.translate); Solr ranks (BM25, distributed IDF), counts and
facets; the hits' Articles come from the record store and snippets are made here as for Whoosh,
so a page looks the same on both backends. Exports stream every match with cursorMark.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date
from math import log
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh import query as wq

from index.analysis import PROTECTED, fold
from index.errors import QueryError
from index.evidence import EVIDENCE_FACET_NAMES
from index.settings import Settings
from index.solr.backend import SolrIndex
from index.solr.translate import MATCH_ALL, escape, to_solr
from index.store import RecordStore
from index.whoosh.analysis import BiomedTokenizer
from index.whoosh.compile import to_whoosh
from search.query import CompiledQuery, QueryBuilder
from search.searcher import (
    Hit,
    Searcher,
    SearchRequest,
    SearchResponse,
    _effective_sort,
    _replace_word,
    _validate,
    correctable,
)
from search.vocabulary import Vocabulary, load_vocabulary

# Ties broken by pmid: a stable order, and cursorMark needs the unique key last.
_SORTS = {"relevance": "score desc,pmid asc", "newest": "date desc,pmid desc",
          "oldest": "date asc,pmid asc"}
_FACET_FIELDS = {"topic": "topic", "year": "year", "publication_type": "pubtype_facet",
                 **{name: f"{name}_facet" for name in EVIDENCE_FACET_NAMES}}


class SolrSearcher(Searcher):
    """A Searcher over ketlit's SolrCloud collection (see the module docstring)."""

    def __init__(self, settings: Settings, vocabulary: Vocabulary | None = None) -> None:
        self.settings = settings
        self.vocab = vocabulary or load_vocabulary()
        self.builder = QueryBuilder(self.vocab)
        self._lock = threading.RLock()
        self._analyzer = BiomedTokenizer(stem=True, protected=PROTECTED)
        self.store = RecordStore(settings.store_path, readonly=True)
        self.index = SolrIndex(settings)
        self._s = None
        try:
            self.index.check_searchable(self.store.count())
        except BaseException:
            self.close()
            raise

    def refresh(self) -> bool:
        return False  # every request reads Solr's latest commit

    def close(self) -> None:
        self.index.close()
        self.store.close()

    @property
    def doc_count(self) -> int:
        return self.index.count()

    # -- searching ----------------------------------------------------------------------------

    def _query(self, req: SearchRequest) -> tuple[CompiledQuery, str, list[str]]:
        compiled = self._compile(req)
        filters = self._with_filters(wq.Every(), req)
        fq = [] if isinstance(filters, wq.Every) else [to_solr(filters)]
        return compiled, to_solr(to_whoosh(compiled.plan)), fq

    def search(self, req: SearchRequest) -> SearchResponse:
        _validate(req)
        compiled, q, fq = self._query(req)
        start = (req.page - 1) * req.limit
        params: dict[str, Any] = {
            "q": q, "fq": fq, "start": start, "rows": req.limit, "fl": "pmid,score",
            "sort": _SORTS[_effective_sort(req)], "facet": "true", "facet.limit": -1,
            "facet.mincount": 1, "facet.field": list(_FACET_FIELDS.values()),
            "facet.query": "retracted:true"}
        answer = self.index.select(params)
        total = int(answer["response"]["numFound"])
        ranked = [(d["pmid"], _score(d, req)) for d in answer["response"]["docs"]]
        hits = self._solr_hits(ranked, compiled)
        facets = _facets(answer, total)
        suggestion = self._suggest(compiled, req) if total == 0 else None
        return SearchResponse(query=req.query, total=total, page=req.page, per_page=req.limit,
                              hits=hits, facets=facets, suggestion=suggestion)

    def rank(self, req: SearchRequest) -> list[tuple[str, float | None]]:
        _validate(req)
        _compiled, q, fq = self._query(req)
        answer = self.index.select({"q": q, "fq": fq, "start": (req.page - 1) * req.limit,
                                    "rows": req.limit, "fl": "pmid,score",
                                    "sort": _SORTS[_effective_sort(req)]})
        return [(d["pmid"], _score(d, req)) for d in answer["response"]["docs"]]

    def iter_matching_pmids(self, req: SearchRequest) -> Iterator[str]:
        _validate(req)
        _compiled, q, fq = self._query(req)
        yield from self.index.stream_ids(q, fq, _SORTS[_effective_sort(req)])

    def all_facets(self) -> dict[str, dict[str, int]]:
        answer = self.index.select({
            "q": MATCH_ALL, "rows": 0, "facet": "true", "facet.limit": -1, "facet.mincount": 1,
            "facet.field": list(_FACET_FIELDS.values()), "facet.query": "retracted:true"})
        return _facets(answer, int(answer["response"]["numFound"]))

    def similar(self, pmid: str, limit: int = 10) -> SearchResponse:
        """More like this, as the Whoosh Searcher does it: the record's most distinctive words
        (tf-idf over the collection's document frequencies), ORed with those weights."""
        art = self.get(pmid)
        text = " ".join(x for x in (art.title, art.title, art.abstract, " ".join(art.keywords),
                                    " ".join(art.mesh_terms)) if x)
        counts = Counter(t.text for t in self._analyzer(text))
        dfs = self.index.doc_frequencies("text", counts)
        n = max(1, self.index.count())
        scored = sorted(((tf * (log(n / (dfs[t] + 1)) + 1.0), t) for t, tf in counts.items()
                         if dfs.get(t, 0) >= 2), reverse=True)[:25]
        if not scored:
            return SearchResponse(query=f"similar:{pmid}", total=0, page=1, per_page=limit)
        top_w = scored[0][0]
        q = " OR ".join(f"(text:{escape(t)})^{w / top_w:.4f}" for w, t in scored)
        answer = self.index.select({"q": f"+({q}) -pmid:{escape(pmid)}", "rows": limit,
                                    "fl": "pmid,score", "sort": _SORTS["relevance"]})
        ranked = [(d["pmid"], float(d["score"])) for d in answer["response"]["docs"]]
        hits = self._solr_hits(ranked, None)
        return SearchResponse(query=f"similar:{pmid}", total=len(hits), page=1, per_page=limit,
                              hits=hits)

    def new_records(self, since: date | None = None, topic: str | None = None,
                    evidence: Mapping[str, Any] | None = None) -> SearchResponse:
        return super().new_records(since, topic, evidence)  # from the store alone

    # -- internals -----------------------------------------------------------------------------

    def _solr_hits(self, ranked: list[tuple[str, float | None]],
                   compiled: CompiledQuery | None) -> list[Hit]:
        arts = self.store.get_many([p for p, _ in ranked])
        hits = []
        for pmid, score in ranked:
            art = arts.get(pmid)
            if art is None:  # deleted from the store since Solr's last commit
                continue
            snippet = self._snippet(art, compiled) if compiled is not None else None
            hits.append(Hit(art, score, snippet))
        return hits

    def _suggest(self, compiled: CompiledQuery, req: SearchRequest) -> str | None:
        """"Did you mean": each unknown word replaced by the nearest indexed word sharing its
        first letter (the spelling field's terms with that prefix), if that finds something."""
        text = req.query
        changed = False
        for raw in compiled.raw_words:
            word = fold(raw)
            if not correctable(raw, self.vocab):
                continue
            if self.index.doc_frequencies("spell", [word]).get(word, 0) > 0:
                continue
            vocab = self.index.terms_with_prefix("spell", word[:1], limit=20000)
            near = process.extract(word, list(vocab), scorer=DamerauLevenshtein.distance,
                                   score_cutoff=2, limit=None)
            if near:
                best = min(near, key=lambda m: (m[1], -vocab[m[0]], m[0]))[0]
                text = _replace_word(text, raw, best)
                changed = True
        if not changed:
            return None
        try:
            alt = self.builder.build(text, req.match)
        except QueryError:
            return None
        filters = self._with_filters(wq.Every(), req)
        fq = [] if isinstance(filters, wq.Every) else [to_solr(filters)]
        return text if self.index.count(to_solr(to_whoosh(alt.plan)), fq) > 0 else None


def _score(doc: dict[str, Any], req: SearchRequest) -> float | None:
    return float(doc["score"]) if _effective_sort(req) == "relevance" else None


def _facets(answer: dict[str, Any], total: int) -> dict[str, dict[str, int]]:
    counts = answer.get("facet_counts", {})
    fields = counts.get("facet_fields", {})
    out: dict[str, dict[str, int]] = {}
    for key, field in _FACET_FIELDS.items():
        flat = fields.get(field, [])
        pairs = [(str(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)
                 if int(flat[i + 1]) > 0]
        if key == "year":
            pairs.sort(key=lambda vc: vc[0], reverse=True)
        else:
            pairs.sort(key=lambda vc: (-vc[1], vc[0]))
        out[key] = dict(pairs)
    retracted = int(counts.get("facet_queries", {}).get("retracted:true", 0))
    out["retracted"] = {"true": retracted, "false": total - retracted}
    return out
