"""The SearchBackend protocol: what the searcher asks of an index backend (Whoosh, Solr).

The searcher (search/searcher.py) owns the pipeline: compile the request's query to ketlit's own
parse tree (index/querytree.py), then ask a backend for the ranked ids, order and page, re-rank
(Searcher.rerankers), and build hits and snippets from the record store. A backend answers one
question per request; it never sees Articles or the store.

Status (issue 14): the Whoosh searcher still runs this pipeline inside search/searcher.py; moving
its run/filter/facet steps behind this protocol (index/whoosh/) is the next step. New backends and
re-rankers should code against these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Filters:
    """Selection without ranking: a record must pass every set filter; none adds to a score."""

    topics: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    types: tuple[str, ...] = ()  # publication types, vocabulary names
    languages: tuple[str, ...] = ()
    has_abstract: bool = False
    exclude_retracted: bool = False
    # Evidence annotations (index.evidence): per facet any of these labels; at least N people.
    design: tuple[str, ...] = ()
    route: tuple[str, ...] = ()
    drug: tuple[str, ...] = ()
    condition: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    min_participants: int | None = None


@dataclass
class BackendResult:
    """One backend answer: the requested window of (pmid, score) pairs in the asked order (score
    None when sorted by date), the total number of matches, facet counts over all matches, and
    per pmid the (start, end) character spans of matched words in the abstract if the backend can
    tell (empty otherwise: the searcher then marks words itself)."""

    ranked: list[tuple[str, float | None]]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    positions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


class SearchBackend(Protocol):
    """An index a searcher can ask. ``query`` is a parse tree (index.querytree); ``sort`` is
    "relevance", "newest" or "oldest"; ``start``/``limit`` select the window of ``ranked``
    (limit None: every match, for exports); ``facets`` False skips counting them."""

    def search(self, query: Any, filters: Filters, sort: str, start: int, limit: int | None,
               *, facets: bool = True) -> BackendResult: ...

    def doc_count(self) -> int: ...

    def refresh(self) -> bool:
        """Move to the newest committed index; True if it changed."""
        ...

    def close(self) -> None: ...
