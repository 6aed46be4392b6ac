"""index.solr.searching: the SolrCloud collection as a SearchBackend - Solr's facet answer read
into the searcher's shape, and windows of one ranking (pages, count only, every match) on the
loopback cluster (skipped without one locally, failed without one under CI=true)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from index import query_plan as qp
from index.backend import Filters
from index.settings import IndexSettings, Settings, SolrSettings
from index.solr.searching import SolrBackend, _facets
from index.store import RecordStore


def test_facet_answer_is_read_into_the_searchers_shape() -> None:
    answer = {"facet_counts": {
        "facet_fields": {"topic": ["ptsd", 2, "depression", 5, "ocd", 0],
                         "year": ["2019", 3, "2021", 4], "pubtype_facet": ["review", 1],
                         "design_facet": ["rct", 2, "cohort", 2]},
        "facet_queries": {"retracted:true": 1}}}
    out = _facets(answer, 7)
    assert out["topic"] == {"depression": 5, "ptsd": 2}  # most first, zeros left out
    assert list(out["year"]) == ["2021", "2019"]  # years newest first
    assert out["design"] == {"cohort": 2, "rct": 2}  # ties by name
    assert out["route"] == {}
    assert out["retracted"] == {"true": 1, "false": 6}


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest, indexed_settings: Settings,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[SolrBackend]:
    """The indexed sample's store (copied) in a collection of its own on the loopback SolrCloud."""
    from index.solr.backend import SolrIndex
    from index.solr.collection import delete_collection
    from index.whoosh.writer import rebuild_index

    cluster = request.getfixturevalue("solr_cluster")
    base = tmp_path_factory.mktemp("solr-searching")
    shutil.copy(indexed_settings.store_path, base / indexed_settings.store_path.name)
    solr = SolrSettings(urls=tuple(cluster["solr_urls"]),
                        collection=f"searching_{uuid.uuid4().hex[:8]}", shards=2, replicas=1)
    settings = replace(indexed_settings, data_dir=base,
                       index=IndexSettings(backend="solr", solr=solr))
    rebuild_index(settings)
    with RecordStore(settings.store_path, readonly=True) as store:
        b = SolrBackend(settings, stored=store.count)
    yield b
    b.close()
    with SolrIndex(settings) as index:
        delete_collection(index.client, solr)


def test_windows_are_slices_of_one_ranking(backend: SolrBackend) -> None:
    query = qp.Or((qp.Term("text", "cancer"), qp.Term("title", "cancer", boost=0.2)))
    whole = backend.search(query, Filters(), "relevance", 0, None, facets=False)
    assert whole.total == len(whole.ranked) > 4
    page = backend.search(query, Filters(), "relevance", 2, 2)
    assert [p for p, _ in page.ranked] == [p for p, _ in whole.ranked[2:4]]
    assert page.total == whole.total and sum(page.facets["retracted"].values()) == whole.total
    count_only = backend.search(query, Filters(), "relevance", 0, 0, facets=False)
    assert count_only.ranked == [] and count_only.total == whole.total
    newest = backend.search(qp.Every(), Filters(), "newest", 0, 3, facets=False)
    assert newest.total == backend.doc_count() and {s for _p, s in newest.ranked} == {None}
    assert backend.refresh() is False
