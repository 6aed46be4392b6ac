"""What a search asks and answers: SearchRequest (query, filters, sort, page, ranker), Hit and
SearchResponse (hits, total, facets, suggestion, notices) with the JSON shape of the design's API.
Plain data shared by the searcher (search/searcher.py), the CLI, batch runs and the web API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from index.article import Article
from index.evidence import EVIDENCE_FACET_NAMES

SORTS = ("relevance", "newest", "oldest")
# The design's three facet groups, plus "retracted" ({"true": n, "false": m}), an extension,
# and the evidence annotations' (index.evidence: design, route, drug, condition, phase,
# participants in sample-size bands).
FACET_KEYS = ("topic", "year", "publication_type", "retracted", *EVIDENCE_FACET_NAMES)


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
