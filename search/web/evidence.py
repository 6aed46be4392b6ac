"""Evidence annotations on the web page (issue 16 points 2 and 3): the facet lists the search
page shows, the badges of a result, and the evidence map at /evidence.

The map crosses two annotation facets (condition x drug, design x route) over the records a
search selects (by default every record): one search per column value, whose facets give the
column's counts, so every count is exactly what the cell's link finds. Each cell links to the
search it stands for (the same query and filters plus the two labels as filters).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from index.article import Article
from index.errors import IndexMissingError, KetlitError, NotFoundError
from index.evidence import (
    FACETS_BY_NAME,
    LABEL_FACETS,
    PARTICIPANT_BANDS,
    evidence_values,
    participants_number,
)
from search.web.params import SearchState, parse_state

router = APIRouter(include_in_schema=False)

# The tables of the map: (rows, columns).
MAP_TABLES: tuple[tuple[str, str], ...] = (("condition", "drug"), ("design", "route"))
# What says nothing on a badge.
_QUIET = frozenset({"unknown", "not-applicable", "other"})
_BAND_ORDER = [b[0] for b in PARTICIPANT_BANDS] + ["unknown", "not-applicable"]


def evidence_facet_lists(facets: dict[str, dict[str, int]], state: SearchState
                         ) -> list[dict[str, Any]]:
    """For the filter column: each label facet's values with counts (in the vocabulary's order,
    selected ones kept even at 0), and the participants bands."""
    out: list[dict[str, Any]] = []
    for name in LABEL_FACETS:
        spec = FACETS_BY_NAME[name]
        counts = facets.get(name, {})
        selected = tuple(getattr(state, name))
        order = {v: i for i, v in enumerate(spec.labels)}
        values = sorted({*counts, *selected}, key=lambda v: (order.get(v, len(order)), v))
        out.append({"name": name, "title": spec.title,
                    "values": [(v, counts.get(v, 0), v in selected) for v in values]})
    bands = facets.get("participants", {})
    out.append({"name": "participants", "title": FACETS_BY_NAME["participants"].title,
                "values": [(b, bands[b], False) for b in _BAND_ORDER if bands.get(b)]})
    return out


def evidence_badges(article: Article) -> list[tuple[str, str]]:
    """(facet, text) badges for a result: design, drug, route, condition, phase and the number
    studied; nothing for values that say nothing (unknown, not applicable, other)."""
    values = evidence_values(article.annotations)
    out = []
    for name in ("design", "drug", "route", "condition", "phase"):
        out.extend((name, v) for v in values[name] if v not in _QUIET)
    n = participants_number(article.annotations)
    if n is not None:
        out.append(("participants", f"n = {n:,}"))
    return out


def cross_table(searcher: Any, state: SearchState, rows: str, cols: str) -> dict[str, Any]:
    """Counts of records per (row label, column label) among those ``state`` selects."""
    from search.searcher import SearchRequest

    def request(**extra: Any) -> Any:
        filters = {**state.filters(), **extra}
        return SearchRequest(query=state.q, match=state.match, limit=1, **filters)

    base = searcher.search(request()).facets
    col_values = _ordered(cols, base.get(cols, {}))
    row_values = _ordered(rows, base.get(rows, {}))
    cells: dict[tuple[str, str], int] = {}
    for c in col_values:
        # this column's records (also within any label of it the state already selects)
        counts = searcher.search(request(**{cols: [c]})).facets.get(rows, {})
        for r in row_values:
            cells[(r, c)] = counts.get(r, 0)
    return {"rows": rows, "cols": cols, "row_title": FACETS_BY_NAME[rows].title,
            "col_title": FACETS_BY_NAME[cols].title, "row_values": row_values,
            "col_values": col_values, "row_totals": base.get(rows, {}),
            "col_totals": base.get(cols, {}), "cells": cells}


def cell_query(state: SearchState, **labels: str) -> str:
    """The search-page query string of a cell: the state's search plus these labels."""
    return state.query_string(page=1, **{name: (value,) for name, value in labels.items()})


def _ordered(name: str, counts: dict[str, int]) -> list[str]:
    order = {v: i for i, v in enumerate(FACETS_BY_NAME[name].labels)}
    return sorted((v for v, n in counts.items() if n > 0),
                  key=lambda v: (order.get(v, len(order)), v))


@router.get("/evidence", response_class=HTMLResponse, name="evidence_map")
def evidence_map(request: Request) -> Response:
    from search.web.pages import _render

    state = parse_state(request.query_params)
    context: dict[str, Any] = {"state": state, "tables": [], "total": 0, "error": None,
                               "notices": list(state.errors)}
    try:
        with request.app.state.searcher.use() as searcher:
            context["total"] = searcher.search(_total_request(state)).total
            context["tables"] = [cross_table(searcher, state, rows, cols)
                                 for rows, cols in MAP_TABLES]
    except (IndexMissingError, NotFoundError):
        raise
    except KetlitError as exc:  # a malformed query or filter: said on the page
        context["error"] = str(exc)
    status = 400 if state.errors or context["error"] else 200
    return _render(request, "evidence.html", context, status)


def _total_request(state: SearchState) -> Any:
    from search.searcher import SearchRequest

    return SearchRequest(query=state.q, match=state.match, limit=1, **state.filters())
