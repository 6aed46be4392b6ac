"""Evidence annotations in search (issue 16 point 2): facets with counts, filters, field tags."""

from __future__ import annotations

import pytest

from index.errors import QueryError, UsageError
from index.settings import Settings
from search.searcher import Searcher, SearchRequest, open_searcher


@pytest.fixture(scope="module")
def searcher(evidence_settings: Settings):
    with open_searcher(evidence_settings) as s:
        yield s


def found(s: Searcher, query: str = "", **kw) -> set[str]:
    return {h.article.pmid for h in s.search(SearchRequest(query=query, limit=100, **kw)).hits}


def test_facets_count_annotations_of_the_results(searcher: Searcher) -> None:
    facets = searcher.search(SearchRequest(query="")).facets
    assert facets["design"] == {"rct": 3, "case-report": 1, "cohort": 1, "systematic-review": 1}
    assert facets["route"]["intranasal"] == 2 and facets["route"]["oral"] == 1
    assert facets["drug"] == {"ketamine": 4, "esketamine": 3}
    assert facets["condition"]["depression"] == 4
    assert facets["phase"]["phase-3"] == 1 and facets["phase"]["not-applicable"] == 3
    assert facets["participants"] == {"100-499": 1, "50-99": 1, "20-49": 1, "<20": 1,
                                      "not-applicable": 1, "unknown": 1}
    # counted over the results only
    facets = searcher.search(SearchRequest(query="", design=["rct"])).facets
    assert facets["design"] == {"rct": 3} and facets["route"] == {"intranasal": 2,
                                                                   "intravenous": 1}


def test_search_json_has_every_facet_and_each_results_annotations(searcher: Searcher) -> None:
    out = searcher.search(SearchRequest(query="PTSD")).to_json()
    assert {"design", "route", "drug", "condition", "phase", "participants"} <= set(out["facets"])
    assert out["results"][0]["annotations"]["route"] == ["intravenous"]


def test_filters_select_by_annotation(searcher: Searcher) -> None:
    assert found(searcher, design=["rct"]) == {"80000001", "80000002", "80000003"}
    assert found(searcher, "ketamine", design=["RCT"], route=["intranasal"]) == \
        {"80000001", "80000002"}
    assert found(searcher, drug=["esketamine"], phase=["phase-3", "phase 2"]) == \
        {"80000001", "80000002"}
    assert found(searcher, condition=["ptsd", "recreational-use"]) == {"80000003", "80000006"}
    assert found(searcher, min_participants=50) == {"80000001", "80000002"}
    assert found(searcher, min_participants=0, design=["cohort"]) == {"80000004"}


def test_unknown_filter_value_is_one_error_listing_the_known_ones(searcher: Searcher) -> None:
    with pytest.raises(UsageError) as err:
        searcher.search(SearchRequest(query="", route=["rectal"]))
    assert "--route" in str(err.value) and "intranasal" in str(err.value)
    with pytest.raises(UsageError):
        searcher.search(SearchRequest(query="", min_participants=-1))


@pytest.mark.parametrize(("query", "expected"), [
    ("rct[design]", {"80000001", "80000002", "80000003"}),
    ("esketamine rct[design]", {"80000001", "80000002"}),
    ("intranasal[route] AND phase-3[phase]", {"80000001"}),
    ("esketamine[drug] NOT suicidality[condition]", {"80000001", "80000005"}),
    ("treatment resistant depression[condition]", {"80000001"}),
    ("TRD[condition] OR ptsd[condition]", {"80000001", "80000003"}),
    ("phase 2[phase]", {"80000002"}),
])
def test_field_tags_match_annotations(searcher: Searcher, query: str, expected: set[str]) -> None:
    assert found(searcher, query) == expected


def test_unknown_tag_value_is_a_query_error(searcher: Searcher) -> None:
    with pytest.raises(QueryError) as err:
        searcher.search(SearchRequest(query="ketamine rectal[route]"))
    assert "unknown route 'rectal'" in str(err.value) and "intranasal" in str(err.value)
