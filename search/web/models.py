"""Response models of the JSON API.

They exist so that /openapi.json describes exactly what the API answers: schemathesis validates
every response against them, and clients can generate code from them. The shapes follow the
design's search JSON and the Article record (``Article.to_dict()``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from index.registry import FACETS


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: one human-readable line saying what is wrong and what to do."""

    detail: str = Field(description="What is wrong and what to do about it.")


class SearchResult(BaseModel):
    pmid: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list, description='"Smith J" as PubMed lists them.')
    journal: str | None = None
    year: int | None = None
    doi: str | None = None
    topics: list[str] = Field(default_factory=list)
    publication_types: list[str] = Field(default_factory=list)
    retracted: bool = False
    score: float | None = Field(default=None, description="Relevance score (None when sorted by date).")
    snippet: str | None = Field(
        default=None,
        description="HTML-escaped text with <mark>...</mark> around matched terms.")
    annotations: dict[str, Any] | None = Field(
        default=None,
        description="Evidence annotations (design, route, drug, condition, participants, phase, "
                    "control, registry), computed from the record when it was stored.")


class _FacetsBase(BaseModel):
    # extra="allow": a backend may add further facet groups; each is a map of value -> count
    # like the registry's.
    model_config = ConfigDict(extra="allow")


# One field per facet group of the registry (index/registry.py), with its label and description,
# so /openapi.json lists exactly the groups the searcher answers.
Facets = create_model(  # type: ignore[call-overload]
    "Facets", __base__=_FacetsBase,
    **{f.key: (dict[str, int], Field(default_factory=dict, title=f.label,
                                     description=f.description or None))
       for f in FACETS})


class SearchAnswer(BaseModel):
    """The design's search JSON, as `ketlit search --json` prints it."""

    model_config = ConfigDict(extra="allow")

    query: str
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    results: list[SearchResult]
    facets: Facets
    suggestion: str | None = Field(
        default=None, description="A spelling from the index's own words, when few or no hits.")
    notices: list[str] | None = Field(
        default=None, description="Limits the search hit that leave the result incomplete "
        "(a truncation past PubMed's 600 variants); absent when there are none.")


class ResultList(BaseModel):
    """Similar and new records: `{"total": N, "results": [...]}` as `ketlit new --json`."""

    model_config = ConfigDict(extra="allow")

    total: int = Field(ge=0)
    results: list[SearchResult]


class AuthorRecord(BaseModel):
    last: str | None = None
    fore: str | None = None
    initials: str | None = None
    collective: str | None = None
    affiliations: list[str] = Field(default_factory=list)
    orcid: str | None = None


class MeshRecord(BaseModel):
    descriptor: str
    major: bool = False
    qualifiers: list[tuple[str, bool]] = Field(
        default_factory=list, description="(qualifier name, major topic) pairs.")


class ArticleRecord(BaseModel):
    """One record: the fields of the Article (``ketlit show --json``)."""

    model_config = ConfigDict(extra="allow")

    pmid: str
    title: str | None = None
    abstract: str | None = None
    abstract_sections: list[tuple[str | None, str]] = Field(
        default_factory=list, description="(label, text) pairs of a structured abstract.")
    authors: list[AuthorRecord] = Field(default_factory=list)
    journal: str | None = None
    journal_iso: str | None = None
    issn: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_year: int | None = None
    pub_date: str | None = None
    epub_date: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    languages: list[str] = Field(default_factory=list)
    publication_types: list[str] = Field(default_factory=list)
    mesh: list[MeshRecord] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    chemicals: list[str] = Field(default_factory=list)
    retracted: bool = False
    retraction_pmids: list[str] = Field(default_factory=list)
    concern_pmids: list[str] = Field(default_factory=list)
    erratum_pmids: list[str] = Field(default_factory=list)
    entrez_date: str | None = None
    revised_date: str | None = None
    topics: list[str] = Field(default_factory=list)
    status: str | None = None
    vernacular_title: str | None = None
    other_abstracts: list[tuple[str | None, str]] = Field(default_factory=list)
    record_type: str = "article"
    book_title: str | None = None
    publisher: str | None = None
    publisher_location: str | None = None
    isbn: str | None = None
    editors: list[AuthorRecord] = Field(default_factory=list)
    bookaccession: str | None = None


class Stats(BaseModel):
    """`ketlit stats --json`: at least the total and a count per configured topic."""

    model_config = ConfigDict(extra="allow")

    total: int = Field(ge=0)
    topics: dict[str, int]
