"""The SearchBackend protocol: what the searcher asks of an index backend (Whoosh, Solr).

The searcher (search/searcher.py) owns the pipeline: parse the request's query to ketlit's own
tree (index/querytree.py) and lower it to a plan over the index's fields (index/lowering.py,
index/query_plan.py), then ask a backend for the ranked ids (compile, filter, run, order, page),
re-rank (Searcher.rerankers), and build hits and snippets from the record store. A backend
answers one question per request; it never sees Articles or the store.

Backends: index/whoosh/backend.py (embedded, the default) and index/solr/searching.py
(SolrCloud). New backends and re-rankers code against these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from index import query_plan as qp


@dataclass(frozen=True)
class Filters:
    """Selection without ranking: a record must pass every set filter; none adds to a score.
    Values are the index's: publication types lower-case PubMed names, languages ISO codes (the
    searcher resolves the vocabulary's aliases)."""

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
    """An index a searcher can ask. ``query`` is a lowered plan (index.query_plan; qp.Every()
    browses); ``sort`` is "relevance", "newest" or "oldest"; ``start``/``limit`` select the
    window of ``ranked`` (limit None: every match from ``start``, for exports; 0: count only);
    ``facets`` False skips counting them."""

    def search(self, query: qp.Node, filters: Filters, sort: str, start: int,
               limit: int | None, *, facets: bool = True) -> BackendResult: ...

    def doc_count(self) -> int: ...

    def refresh(self) -> bool:
        """Move to the newest committed index; True if it changed."""
        ...

    def close(self) -> None: ...

    def term_weights(self, field: str, counts: Mapping[str, int],
                     min_df: int = 2) -> list[tuple[float, str]]:
        """(tf x idf, term) for each of ``counts`` found in at least ``min_df`` records, with
        the backend's idf ("more like this")."""
        ...

    def known_word(self, word: str) -> bool:
        """Is ``word`` in the index's spelling vocabulary ("did you mean")?"""
        ...

    def closest_word(self, word: str, maxdist: int = 2) -> str | None:
        """The nearest spelling-vocabulary word (edit distance at most ``maxdist``), or None."""
        ...
