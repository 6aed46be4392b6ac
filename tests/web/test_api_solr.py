"""The web page and JSON API on the Solr backend: the API and page tests of test_api.py, run
against the same records indexed in a collection of the loopback SolrCloud (2 shards x 2
replicas). Needs the cluster (KETLIT_SOLR_CLUSTER; .ci/run starts it): skipped without one
locally, failed without one under CI=true."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from index.settings import IndexSettings, Settings, SolrSettings
from tests.web.test_api import (  # noqa: F401  (collected here, against Solr)
    client,
    test_an_unknown_topic_is_a_400_naming_the_configured_ones,
    test_api_search_without_q_lists_the_filtered_records,
    test_bad_parameters_get_a_clear_4xx,
    test_every_format_exports_the_whole_search,
    test_export_errors,
    test_export_selection_as_ris_reads_back,
    test_hostile_queries_are_refused_cheaply,
    test_match_any_finds_at_least_what_all_finds,
    test_misspelt_query_offers_a_suggestion,
    test_new_page_and_export_redirects,
    test_new_since,
    test_openapi_document,
    test_page_past_the_last_links_back,
    test_page_reports_bad_parameters_and_queries,
    test_page_shows_results_facets_and_escapes_markup,
    test_page_shows_the_retracted_count_beside_the_filter,
    test_page_url_holds_the_state,
    test_page_with_only_filters_shows_results_and_exports_them,
    test_pages_do_not_overlap_and_sort_by_date,
    test_record_errors,
    test_record_has_the_article_fields,
    test_record_page,
    test_search_answers_the_design_json_with_facets,
    test_search_page_draws_results_by_year_over_the_whole_result_set,
    test_similar_records,
    test_snippets_mark_the_matched_terms,
    test_stats,
    test_topic_filter_matches_the_facet_count,
    test_year_type_retracted_and_abstract_filters,
)


@pytest.fixture(scope="module")
def web_settings(web_data: tuple[Settings, Path], solr_cluster: dict,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from index.solr.backend import SolrIndex
    from index.solr.collection import delete_collection
    from index.whoosh.writer import rebuild_index

    base, _config = web_data
    directory = tmp_path_factory.mktemp("web-solr")
    shutil.copy(base.store_path, directory / base.store_path.name)
    solr = SolrSettings(urls=tuple(solr_cluster["solr_urls"]),
                        collection=f"web_{uuid.uuid4().hex[:8]}", shards=2, replicas=2)
    settings = replace(base, data_dir=directory, index=IndexSettings(backend="solr", solr=solr))
    rebuild_index(settings)
    yield settings
    with SolrIndex(settings) as index:
        delete_collection(index.client, solr)
