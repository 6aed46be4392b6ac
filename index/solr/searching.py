"""ketlit's SolrCloud collection as a SearchBackend (index/backend.py).

A plan (index.query_plan) is written in Solr's syntax and the filters as filter queries
(index.solr.translate); Solr ranks (BM25, distributed IDF), counts and facets in one request, and
every match of an export is streamed with cursorMark. Each request reads Solr's latest commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import log
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from index import query_plan as qp
from index.backend import BackendResult, Filters
from index.evidence import EVIDENCE_FACET_NAMES
from index.settings import Settings
from index.solr.backend import SolrIndex
from index.solr.translate import filter_queries, to_solr

# Ties broken by pmid: a stable order, and cursorMark needs the unique key last.
_SORTS = {"relevance": "score desc,pmid asc", "newest": "date desc,pmid desc",
          "oldest": "date asc,pmid asc"}
_FACET_FIELDS = {"topic": "topic", "year": "year", "publication_type": "pubtype_facet",
                 **{name: f"{name}_facet" for name in EVIDENCE_FACET_NAMES}}


class SolrBackend:
    """The configured collection; ``stored`` counts the store's records (for the message when
    the collection is missing or empty)."""

    def __init__(self, settings: Settings, stored: Callable[[], int]) -> None:
        self.index = SolrIndex(settings)
        try:
            self.index.check_searchable(stored())
        except BaseException:
            self.index.close()
            raise

    def refresh(self) -> bool:
        return False  # every request reads Solr's latest commit

    def close(self) -> None:
        self.index.close()

    def doc_count(self) -> int:
        return self.index.count()

    def search(self, query: qp.Node, filters: Filters, sort: str, start: int,
               limit: int | None, *, facets: bool = True) -> BackendResult:
        q, fq = to_solr(query), filter_queries(filters)
        if limit is None:  # every match (exports), streamed
            pmids = list(self.index.stream_ids(q, fq, _SORTS[sort]))[start:]
            return BackendResult(ranked=[(p, None) for p in pmids], total=start + len(pmids),
                                 facets=self._facet_counts(q, fq) if facets else {})
        params: dict[str, Any] = {"q": q, "fq": fq, "start": start, "rows": limit,
                                  "fl": "pmid,score", "sort": _SORTS[sort]}
        if facets:
            params.update(_FACET_PARAMS)
        answer = self.index.select(params)
        total = int(answer["response"]["numFound"])
        scored = sort == "relevance"
        ranked = [(d["pmid"], float(d["score"]) if scored else None)
                  for d in answer["response"]["docs"]]
        return BackendResult(ranked=ranked, total=total,
                             facets=_facets(answer, total) if facets else {})

    def _facet_counts(self, q: str, fq: list[str]) -> dict[str, dict[str, int]]:
        answer = self.index.select({"q": q, "fq": fq, "rows": 0, **_FACET_PARAMS})
        return _facets(answer, int(answer["response"]["numFound"]))

    def term_weights(self, field: str, counts: Mapping[str, int],
                     min_df: int = 2) -> list[tuple[float, str]]:
        """tf x idf over the collection's document frequencies (Whoosh's idf formula)."""
        dfs = self.index.doc_frequencies(field, counts)
        n = max(1, self.index.count())
        return [(tf * (log(n / (dfs[t] + 1)) + 1.0), t) for t, tf in counts.items()
                if dfs.get(t, 0) >= min_df]

    def known_word(self, word: str) -> bool:
        return self.index.doc_frequencies("spell", [word]).get(word, 0) > 0

    def closest_word(self, word: str, maxdist: int = 2) -> str | None:
        """The nearest spelling word sharing the first letter (the spelling field's terms with
        that prefix), the most frequent among equally near ones."""
        vocab = self.index.terms_with_prefix("spell", word[:1], limit=20000)
        near = process.extract(word, list(vocab), scorer=DamerauLevenshtein.distance,
                               score_cutoff=maxdist, limit=None)
        if not near:
            return None
        return str(min(near, key=lambda m: (m[1], -vocab[m[0]], m[0]))[0])


_FACET_PARAMS: dict[str, Any] = {
    "facet": "true", "facet.limit": -1, "facet.mincount": 1,
    "facet.field": list(_FACET_FIELDS.values()), "facet.query": "retracted:true"}


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
