"""index.whoosh.backend: the embedded index as a SearchBackend - windows of one ranking, filters
that select without scoring, evidence filters, facets over every match, and the words "more like
this" and "did you mean" ask for."""

from __future__ import annotations

from collections import Counter

import pytest

from index import query_plan as qp
from index.backend import Filters
from index.settings import Settings
from index.store import RecordStore
from index.whoosh.backend import WhooshBackend

EVERY = qp.Every()
KETAMINE = qp.Or((qp.Term("text", "ketamin"), qp.Term("title", "ketamin", boost=0.2)))


@pytest.fixture(scope="module")
def backend(evidence_settings: Settings):
    with RecordStore(evidence_settings.store_path, readonly=True) as store:
        b = WhooshBackend(evidence_settings, stored=store.count)
    yield b
    b.close()


def test_windows_are_slices_of_one_ranking(backend: WhooshBackend) -> None:
    whole = backend.search(KETAMINE, Filters(), "relevance", 0, None, facets=False)
    assert whole.total == len(whole.ranked) == 6
    scores = [s for _p, s in whole.ranked]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)
    for start, limit in ((0, 2), (2, 2), (4, 10), (5, None)):
        part = backend.search(KETAMINE, Filters(), "relevance", start, limit, facets=False)
        end = None if limit is None else start + limit
        assert part.ranked == whole.ranked[start:end] and part.total == 6
    count_only = backend.search(KETAMINE, Filters(), "relevance", 0, 0)
    assert count_only.ranked == [] and count_only.total == 6 and count_only.facets
    assert backend.search(KETAMINE, Filters(), "relevance", 6, 5).ranked == []


def test_date_orders_give_no_scores(backend: WhooshBackend) -> None:
    newest = backend.search(qp.Every(), Filters(), "newest", 0, None, facets=False).ranked
    oldest = backend.search(qp.Every(), Filters(), "oldest", 0, None, facets=False).ranked
    assert [p for p, _ in newest] == ["80000005", "80000002", "80000001", "80000003",
                                      "80000004", "80000006"]
    assert [p for p, _ in oldest] == [p for p, _ in reversed(newest)]
    assert {s for _p, s in newest} == {None}


def test_filters_select_without_changing_scores(backend: WhooshBackend) -> None:
    plain = dict(backend.search(KETAMINE, Filters(), "relevance", 0, None).ranked)
    narrowed = backend.search(KETAMINE, Filters(topics=("ptsd",), year_from=2019),
                              "relevance", 0, None)
    assert dict(narrowed.ranked) == {"80000003": plain["80000003"]}
    assert narrowed.facets["topic"] == {"ptsd": 1}


def test_evidence_filters_are_the_tags_matches(backend: WhooshBackend) -> None:
    def pmids(filters: Filters, query: qp.Node = EVERY) -> set[str]:
        return {p for p, _ in backend.search(query, filters, "newest", 0, None).ranked}

    rct = pmids(Filters(design=("rct",)))
    assert rct == {"80000001", "80000002", "80000003"}
    assert rct == pmids(Filters(), qp.Term("keys", "design:rct"))
    assert pmids(Filters(design=("rct", "cohort"), route=("intranasal",))) == {"80000001",
                                                                               "80000002"}
    assert pmids(Filters(phase=("phase-3",))) == {"80000001"}
    assert pmids(Filters(min_participants=60)) == {"80000001", "80000002"}
    assert pmids(Filters(drug=("esketamine",), condition=("suicidality",))) == {"80000002"}


def test_facets_count_every_match_not_the_window(backend: WhooshBackend) -> None:
    result = backend.search(qp.Every(), Filters(), "newest", 0, 1)
    assert len(result.ranked) == 1
    assert sum(result.facets["year"].values()) == 6
    assert result.facets["design"]["rct"] == 3
    assert result.facets["retracted"] == {"true": 0, "false": 6}
    assert backend.search(qp.Every(), Filters(), "newest", 0, 1, facets=False).facets == {}


def test_words_for_similar_and_did_you_mean(backend: WhooshBackend) -> None:
    weights = dict((t, w) for w, t in backend.term_weights(
        "text", Counter({"ketamin": 2, "esketamin": 1, "zzzunseen": 5})))
    assert set(weights) == {"ketamin", "esketamin"}  # unseen and single-record words say nothing
    assert weights["esketamin"] > weights["ketamin"] / 2  # rarer: a higher idf per occurrence
    assert backend.known_word("ketamine")
    assert not backend.known_word("ketamime")
    assert backend.closest_word("ketamime") == "ketamine"
    assert backend.closest_word("qqqqqqqq") is None
    assert backend.doc_count() == 6
    assert backend.refresh() is False  # nothing committed since it opened
