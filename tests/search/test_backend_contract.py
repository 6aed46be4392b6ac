"""The backend contract: the Searcher's behaviour tests of tests/search/test_searcher.py, run
against each backend (Whoosh embedded, and the loopback SolrCloud with 2 shards x 2 replicas),
over the same stored records. The Solr runs need the cluster (KETLIT_SOLR_CLUSTER; .ci/run starts
it): skipped without one locally, failed without one under CI=true."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from index.settings import IndexSettings, Settings, SolrSettings
from search.searcher import Searcher, SearchRequest, open_searcher
from tests.search.test_searcher import (  # noqa: F401  (collected here, against both backends)
    test_all_terms_required_by_default_any_with_match_any,
    test_an_unknown_topic_is_an_error_listing_the_configured_ones,
    test_bad_requests,
    test_biomedical_terms_and_synonyms_find_records,
    test_did_you_mean,
    test_empty_query_lists_the_filtered_records_newest_first,
    test_empty_query_with_other_filters_and_without_any,
    test_facets_count_the_whole_result_set_not_the_page,
    test_field_tags_restrict_fields,
    test_filters,
    test_filters_do_not_change_the_ranking,
    test_get_and_not_found,
    test_hits_are_store_articles_with_scores,
    test_hostile_query_shapes_are_refused_saying_where,
    test_iter_matching_pmids_returns_every_match_in_order,
    test_new_records,
    test_pagination_and_sorting,
    test_retracted_facet_counts_the_result_set,
    test_search_json_has_the_design_shape,
    test_similar,
    test_snippets_mark_matches_and_escape_html,
)


@pytest.fixture(scope="module")
def solr_settings(request: pytest.FixtureRequest, indexed_settings: Settings,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The indexed sample's store (copied) in a collection of its own on the loopback SolrCloud."""
    from index.solr.backend import SolrIndex
    from index.solr.collection import delete_collection
    from index.whoosh.writer import rebuild_index

    cluster = request.getfixturevalue("solr_cluster")
    base = tmp_path_factory.mktemp("solr-contract")
    shutil.copy(indexed_settings.store_path, base / indexed_settings.store_path.name)
    solr = SolrSettings(urls=tuple(cluster["solr_urls"]),
                        collection=f"contract_{uuid.uuid4().hex[:8]}", shards=2, replicas=2)
    settings = replace(indexed_settings, data_dir=base,
                       index=IndexSettings(backend="solr", solr=solr))
    rebuild_index(settings)
    yield settings
    with SolrIndex(settings) as index:
        delete_collection(index.client, solr)


@pytest.fixture(scope="module", params=["whoosh", "solr"])
def searcher(request: pytest.FixtureRequest, indexed_settings: Settings) -> Iterator[Searcher]:
    settings = (indexed_settings if request.param == "whoosh"
                else request.getfixturevalue("solr_settings"))
    with open_searcher(settings) as s:
        assert (type(s).__name__ == "SolrSearcher") == (request.param == "solr")
        yield s


@pytest.mark.parametrize("query", [
    "ketamine", "ketamine depression", "HNK OR IL6", "cancer NOT breast", '"breast cancer"',
    "thyroid[tiab]", "neoplasms[mh]", "review[pt]", "2010:2015[dp]", "canc*", "5-HT2A",
    "eng[la] AND cell", "title:gene", "year:[2000 TO 2010]", "NOT review[pt]", "\"p < 0.05\"",
    "Zarate CA[au]", "(R)-ketamine", "TNF-alpha", "ketamine randomized controlled trial[pt]",
    "rct[design]", "ketamine AND intravenous[route]", "NOT case-report[design]",
])
def test_same_matches_on_both_backends(indexed_settings: Settings, solr_settings: Settings,
                                       query: str) -> None:
    """Every match (the export's stream) and the facets are the same on Whoosh and on Solr."""
    req = SearchRequest(query=query, sort="newest", limit=10)
    with open_searcher(indexed_settings) as w, open_searcher(solr_settings) as s:
        whoosh_ids = set(w.iter_matching_pmids(req))
        solr_ids = set(s.iter_matching_pmids(req))
        assert solr_ids == whoosh_ids, query
        assert s.search(req).facets == w.search(req).facets, query


@pytest.mark.parametrize("filters", [
    {"design": ["rct"]}, {"design": ["rct", "cohort"], "route": ["intravenous"]},
    {"min_participants": 20}, {"drug": ["ketamine"], "exclude_retracted": True},
])
def test_same_evidence_filtering_on_both_backends(indexed_settings: Settings,
                                                  solr_settings: Settings,
                                                  filters: dict) -> None:
    """The evidence filters (labels per facet, at least N people) select the same records."""
    req = SearchRequest(query="", sort="newest", limit=10, **filters)
    with open_searcher(indexed_settings) as w, open_searcher(solr_settings) as s:
        assert set(s.iter_matching_pmids(req)) == set(w.iter_matching_pmids(req)), filters
        assert s.search(req).facets == w.search(req).facets, filters
