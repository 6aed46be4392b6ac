"""The JSON API under /api/: search, records, similar, export, stats, what's new.

Read-only. Every endpoint opens the searcher for the request (a Whoosh reader is a consistent
snapshot, so a harvest committing meanwhile is seen by the next request, never half-way).
Typed library errors become 4xx/503 in app.py; FastAPI's own parameter checks become 422.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from index.errors import UsageError
from index.registry import tags_line
from index.settings import Settings
from search.export import format_labels, format_names
from search.web import exporting
from search.web.models import (
    ArticleRecord,
    ErrorBody,
    ResultList,
    SearchAnswer,
    Stats,
)
from search.web.params import (
    MAX_LIMIT,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    YEAR_MAX,
    YEAR_MIN,
    check_year_range,
    parse_pmids,
)

# The export formats' registry (search.export.EXPORT_FORMATS) gives the allowed values.
ExportFormat = Literal[format_names()]  # type: ignore[valid-type]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed query or parameters"},
    422: {"model": ErrorBody, "description": "A parameter of the wrong type or out of range"},
    503: {"model": ErrorBody, "description": "No index yet: harvest, ingest or reindex first"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No record with this PMID"}}

router = APIRouter(prefix="/api", tags=["api"])

PmidPath = Annotated[str, Path(pattern=r"^[0-9]{1,10}$", description="A PubMed ID",
                               examples=["31234567"])]

# Filters shared by search and export, named as in the page URL (and like the CLI options).
Q = Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="Query: Whoosh syntax plus PubMed field "
                         f"tags ({tags_line()}).")]
Topic = Annotated[list[str], Query(description="Only records of this topic (repeatable).")]
YearFrom = Annotated[int | None, Query(alias="from", ge=YEAR_MIN, le=YEAR_MAX,
                                       description="Published in or after this year.")]
YearTo = Annotated[int | None, Query(alias="to", ge=YEAR_MIN, le=YEAR_MAX,
                                     description="Published in or before this year.")]
PubType = Annotated[list[str], Query(alias="type",
                                     description="Publication type, e.g. Review (repeatable).")]
Lang = Annotated[list[str], Query(alias="lang", description="Language code, e.g. eng (repeatable).")]
HasAbstract = Annotated[bool, Query(description="Only records with an abstract.")]
NoRetracted = Annotated[bool, Query(description="Leave out retracted publications.")]
Match = Annotated[Literal["all", "any"], Query(
    description="all: every term required (as PubMed); any: rank by any word.")]
Sort = Annotated[Literal["relevance", "newest", "oldest"], Query()]
Rank = Annotated[Literal["lexical", "hybrid"] | None, Query(
    description="lexical: BM25; hybrid: BM25 fused with sentence embeddings over the lexical "
                "top 100 (needs the semantic extra). Default: the config's search.rank.")]


def evidence_params(
        design: Annotated[list[str], Query(description="Study design, e.g. rct (repeatable: any).")] = [],  # noqa: B006,E501
        route: Annotated[list[str], Query(description="Route, e.g. intranasal (repeatable).")] = [],  # noqa: B006,E501
        drug: Annotated[list[str], Query(description="Drug, e.g. esketamine (repeatable).")] = [],  # noqa: B006,E501
        condition: Annotated[list[str], Query(description="Condition, e.g. ptsd (repeatable).")] = [],  # noqa: B006,E501
        phase: Annotated[list[str], Query(description="Trial phase, e.g. phase-3 (repeatable).")] = [],  # noqa: B006,E501
        min_participants: Annotated[int | None, Query(ge=0, description="At least N people studied.")] = None,  # noqa: E501
) -> dict[str, Any]:
    """The evidence-annotation filters (index.evidence), named as the page URL and CLI name
    them; unknown labels are a 400 listing the known ones (the searcher checks them)."""
    return {"design": [v for v in design if v.strip()], "route": [v for v in route if v.strip()],
            "drug": [v for v in drug if v.strip()],
            "condition": [v for v in condition if v.strip()],
            "phase": [v for v in phase if v.strip()], "min_participants": min_participants}


Evidence = Annotated[dict[str, Any], Depends(evidence_params)]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _searcher(request: Request) -> Any:
    return request.app.state.searcher.use()


def _filters(topic: list[str], year_from: int | None, year_to: int | None, types: list[str],
             lang: list[str], has_abstract: bool, no_retracted: bool) -> dict[str, Any]:
    check_year_range(year_from, year_to)
    return {"topics": [t for t in topic if t.strip()], "year_from": year_from,
            "year_to": year_to, "types": [t for t in types if t.strip()],
            "languages": [t for t in lang if t.strip()], "has_abstract": has_abstract,
            "exclude_retracted": no_retracted}


@router.get("/search", response_model=SearchAnswer, responses=_ERRORS,
            summary="Search the index (the design's search JSON, with facets)")
def api_search(request: Request, q: Q = "", topic: Topic = [],  # noqa: B006 (FastAPI reads it)
               year_from: YearFrom = None, year_to: YearTo = None,
               types: PubType = [], lang: Lang = [],  # noqa: B006
               has_abstract: HasAbstract = False, no_retracted: NoRetracted = False,
               match: Match = "all", sort: Sort = "relevance", rank: Rank = None,
               limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
               page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
               evidence: Evidence = {}) -> Any:  # noqa: B006 (FastAPI fills it)
    from search.hybrid import check_rank
    from search.searcher import SearchRequest

    filters = _filters(topic, year_from, year_to, types, lang, has_abstract, no_retracted)
    filters.update(evidence)
    check_rank(rank, _settings(request))
    req = SearchRequest(query=q, match=match, sort=sort, limit=limit, page=page, rank=rank,
                        **filters)
    with _searcher(request) as searcher:
        return searcher.search(req).to_json()


@router.get("/records/{pmid}", response_model=ArticleRecord,
            responses={**_ERRORS, **_NOT_FOUND}, summary="One record (the Article's fields)")
def api_record(request: Request, pmid: PmidPath) -> Any:
    with _searcher(request) as searcher:
        return searcher.get(pmid).to_dict()


@router.get("/records/{pmid}/similar", response_model=ResultList,
            responses={**_ERRORS, **_NOT_FOUND}, summary="Records most like this one")
def api_similar(request: Request, pmid: PmidPath,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10) -> Any:
    with _searcher(request) as searcher:
        return searcher.similar(pmid, limit=limit).to_json(short=True)


@router.get("/new", response_model=ResultList, responses=_ERRORS,
            summary="Records new to the index since the previous harvest (or a date)")
def api_new(request: Request,
            since: Annotated[str | None, Query(
                pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", examples=["2025-01-31"],
                description="YYYY-MM-DD; default: the previous harvest")] = None,
            topic: Annotated[str | None, Query(description="Only this topic")] = None,
            evidence: Evidence = {}) -> Any:  # noqa: B006 (FastAPI fills it)
    # A str with a pattern rather than `date`: pydantic would also take "0" (a Unix time).
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise UsageError(f"since: {since!r} is not a calendar date (YYYY-MM-DD)") from None
    with _searcher(request) as searcher:
        return searcher.new_records(since=day, topic=topic or None,
                                    evidence=evidence).to_json(short=True)


@router.get("/stats", response_model=Stats, responses=_ERRORS,
            summary="Counts by topic, year and publication type; the last harvest per topic")
def api_stats(request: Request) -> Any:
    from search.stats import collect_stats

    return collect_stats(_settings(request))


@router.get("/export", response_class=StreamingResponse,
            responses={200: {"description": "The citation list as a file download",
                             "content": exporting.openapi_content()},
                       **_ERRORS, **_NOT_FOUND},
            summary="Export a selection (pmids) or a whole search (q + filters)")
def api_export(request: Request,
               format: Annotated[ExportFormat, Query(description="Citation format: " + "; ".join(
                   f"{k}: {v}" for k, v in format_labels().items()))],  # noqa: A002
               pmids: Annotated[list[str], Query(
                   description="PMIDs to export, comma-separated or repeated; when given, "
                               "q and the filters are ignored")] = [],  # noqa: B006
               q: Q = "", topic: Topic = [],  # noqa: B006
               year_from: YearFrom = None, year_to: YearTo = None,
               types: PubType = [], lang: Lang = [],  # noqa: B006
               has_abstract: HasAbstract = False, no_retracted: NoRetracted = False,
               match: Match = "all", sort: Sort = "relevance",
               rank: Rank = None,
               evidence: Evidence = {}) -> StreamingResponse:  # noqa: B006 (FastAPI fills it)
    from search.hybrid import check_rank

    settings = _settings(request)
    check_rank(rank, settings)
    selection = parse_pmids(pmids)
    if selection:
        return exporting.export_pmids(settings, selection, format)
    filters = _filters(topic, year_from, year_to, types, lang, has_abstract, no_retracted)
    filters.update(evidence)
    if not q.strip() and not any(v not in (None, False, []) for v in filters.values()):
        # A whole-index download is one click away on the CLI (`ketlit export`); over HTTP it
        # is more likely a form sent empty, so it is refused.
        raise UsageError("export: give pmids=1,2,3, a query q, or filters (topic, from, to, "
                         "type, lang, has_abstract, no_retracted, design, route, drug, "
                         "condition, phase, min_participants)")
    return exporting.export_search(request.app.state.searcher, settings, format, q, match=match,
                                   sort=sort, filters=filters, rank=rank)
