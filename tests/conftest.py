"""Fixtures shared by the whole suite. Shared test data is read from ../shared/data, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import EFETCH_XML, PUBMED_DATA, SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared test data not found at {SHARED} (set KETLIT_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def pubmed_dir(shared_dir: Path) -> Path:
    return PUBMED_DATA


@pytest.fixture(scope="session")
def efetch_files(shared_dir: Path) -> list[Path]:
    """Every efetch XML file in the shared data (each a <PubmedArticleSet>)."""
    return sorted(EFETCH_XML.rglob("*.xml"))


# -- loopback SolrCloud (deploy/solrcloud/start; .ci/run starts one) -------------------------------

@pytest.fixture(scope="session")
def solr_cluster() -> dict:
    """The cluster.json of a running loopback SolrCloud, named by env KETLIT_SOLR_CLUSTER.

    Without one the test is skipped locally, but fails under CI=true (.ci/run always starts one),
    so a broken cluster can never pass as a green run that tested nothing of Solr."""
    from tests.solrcloud import load_cluster

    cluster, problem = load_cluster()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(reason=problem)
    return cluster


# -- loopback E-utilities server (tests/eutils_server.py) -----------------------------------------

@pytest.fixture
def make_eutils_server(shared_dir: Path):
    """Factory: ``make_eutils_server(cap=50, fault_rate=0.2, faults=[...], seed=1, db=...)`` starts
    a fresh loopback E-utilities server; every server it made is stopped after the test."""
    from tests.eutils_server import EutilsServer

    servers: list[EutilsServer] = []

    def make(**options):
        server = EutilsServer(**options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def eutils_server(make_eutils_server):
    """A loopback E-utilities server over a fresh copy of the shared records, no faults.
    Has .base_url (ends in '/'), .db, .requests, .set_faults(rate, kinds), .fail_next(n, kind),
    .fault_counts, .cap, .max_requests_in_any_second(), .stop()."""
    return make_eutils_server()


@pytest.fixture(scope="session")
def sample_articles(efetch_files: list[Path]) -> list:
    """Every unique-PMID Article parsed from the shared efetch XML (harvester.parse).

    When a PMID appears in several files (the 2008 and 2025 biopython fetches of the same
    records), the latest version wins: later revised_date, and on a tie the file that is not
    from the 2008 snapshot. Sorted by PMID (as an int).
    """
    from harvester.parse import iter_pubmed
    from index.article import Article

    latest: dict[str, tuple[tuple[str, bool], Article]] = {}
    for path in efetch_files:
        current = "biopython-2008" not in path.parts
        for record in iter_pubmed(path):
            if not isinstance(record, Article):
                continue
            key = (record.revised_date or "", current)
            seen = latest.get(record.pmid)
            if seen is None or key > seen[0]:
                latest[record.pmid] = (key, record)
    return [latest[p][1] for p in sorted(latest, key=int)]


# -- an indexed data directory (search tests) -----------------------------------------------------

@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory, sample_articles: list):
    """Settings whose data_dir holds a RecordStore and a built index: every shared efetch record
    (the first five tagged ``ptsd``) plus the hand-written ketamine records of
    tests/search/ketamine_records.py (topics depression / ptsd / ocd). Session-wide: read only."""
    import copy

    from index.settings import settings_from_mapping
    from index.store import ORIGIN_INGEST, RecordStore
    from index.whoosh.writer import rebuild_index
    from tests.search.ketamine_records import ketamine_articles

    base = tmp_path_factory.mktemp("indexed")
    topics = {name: {"query": f"{name}[tiab]", "label": name} for name in ("depression", "ptsd", "ocd")}
    settings = settings_from_mapping({"data_dir": str(base / "data"), "topics": topics}, base)
    store = RecordStore(settings.store_path)
    try:
        for i, art in enumerate(copy.deepcopy(sample_articles)):
            store.upsert([art], origin=ORIGIN_INGEST, extra_topics={"ptsd"} if i < 5 else ())
        for art in ketamine_articles():
            store.upsert([art], extra_topics=set(art.topics))
        store.set_meta("last_harvest_started", "2000-01-01T00:00:00+00:00")
    finally:
        store.close()
    rebuild_index(settings)
    return settings


# -- an index of records with known evidence annotations (issue 16 wiring) -------------------------

@pytest.fixture(scope="session")
def evidence_settings(tmp_path_factory: pytest.TempPathFactory):
    """Settings whose index holds tests/search/evidence_records.py: records whose annotations
    are given (not computed), so facet counts and filters do not move with the rules."""
    from index.settings import settings_from_mapping
    from index.store import RecordStore
    from index.whoosh.writer import sync_pending
    from tests.search.evidence_records import evidence_articles

    base = tmp_path_factory.mktemp("evidence")
    topics = {name: {"query": f"{name}[tiab]", "label": name} for name in ("depression", "ptsd")}
    settings = settings_from_mapping({"data_dir": str(base / "data"), "topics": topics}, base)
    store = RecordStore(settings.store_path)
    try:
        for art in evidence_articles():
            store.upsert([art], extra_topics=set(art.topics))
        store.set_meta("last_harvest_started", "2000-01-01T00:00:00+00:00")
        # indexed as stored (a rebuild would recompute the annotations from the rules)
        sync_pending(settings, store)
    finally:
        store.close()
    return settings
