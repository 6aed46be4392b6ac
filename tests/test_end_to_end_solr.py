"""Issue 17's check, end to end through the `ketlit` console script: the loopback SolrCloud
(deploy/solrcloud) as the backend, 2 shards x 2 replicas, the loopback E-utilities server as
PubMed: harvest -> exact counts per topic -> a record by its title -> RIS export as large as the
search -> one Solr node killed -> the same totals."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import rispy

from tests.helpers import run_ketlit, write_config
from tests.solrcloud import node_answers, start_private, stop_private

TOPICS = {
    "thyroid": {"label": "Thyroid", "query": "thyroid OR hypothyroidism OR pesticide*"},
    "cancer": {"label": "Cancer", "query": "cancer[tiab] OR neoplasms[mh] OR thyroid"},
    "diabetes": {"label": "Diabetes", "query": "diabetes OR insulin"},
}


def solr_config(tmp_path: Path, server: Any, urls: list[str], collection: str) -> Path:
    return write_config(
        tmp_path, topics=TOPICS,
        pubmed={"base_url": server.base_url, "batch_size": 25, "timeout_s": 5,
                "backoff_base_s": 0.01, "requests_per_second": 20},
        index={"backend": "solr", "solr": {"urls": urls, "collection": collection,
                                           "shards": 2, "replicas": 2, "timeout_s": 20}})


def _json(args: list[str], cfg: Path) -> Any:
    return json.loads(run_ketlit(args, cfg, check=True).stdout)


def _check_totals(cfg: Path, server: Any) -> dict[str, int]:
    stats = _json(["stats", "--json"], cfg)
    totals = {}
    for name, t in TOPICS.items():
        expected = set(server.db.pmids_matching(t["query"]))
        assert stats["topics"][name] == len(expected), name
        out = _json(["search", "--topic", name, "--json", "--limit", "500"], cfg)
        assert out["total"] == len(expected), name
        assert {r["pmid"] for r in out["results"]} == expected, name
        totals[name] = out["total"]
    return totals


@pytest.mark.slow
def test_solr_backend_survives_a_node_down(tmp_path: Path, eutils_server: Any,
                                            solr_cluster: dict) -> None:
    # A cluster of its own: this test kills one of its nodes.
    cluster = start_private(tmp_path / "cluster")
    try:
        cfg = solr_config(tmp_path, eutils_server, cluster["solr_urls"], "ketlit")
        run_ketlit(["harvest"], cfg, check=True)
        totals = _check_totals(cfg, eutils_server)
        assert all(n > 0 for n in totals.values())

        # A record by its title.
        out = _json(["search", "Occupational pesticide exposure[ti]", "--json"], cfg)
        assert "28775130" in [r["pmid"] for r in out["results"]]
        assert out["results"][0]["snippet"]

        # RIS with as many records as the search.
        search = _json(["search", "thyroid", "--json", "--limit", "1"], cfg)
        ris = tmp_path / "thyroid.ris"
        run_ketlit(["export", "thyroid", "--format", "ris", "-o", str(ris)], cfg, check=True)
        with ris.open(encoding="utf-8") as fh:
            assert len(rispy.load(fh)) == search["total"] > 0

        # One node down, the one ketlit asks first: ketlit fails over to the other node, and
        # every shard still has a replica there.
        os.kill(cluster["pids"]["solr1"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while node_answers(cluster["solr_urls"][0], timeout=1) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not node_answers(cluster["solr_urls"][0], timeout=1)
        assert _check_totals(cfg, eutils_server) == totals
        out = _json(["search", "Occupational pesticide exposure[ti]", "--json"], cfg)
        assert "28775130" in [r["pmid"] for r in out["results"]]
    finally:
        stop_private(tmp_path / "cluster")


@pytest.mark.slow
def test_solr_unreachable_is_one_line_naming_the_url(tmp_path: Path, eutils_server: Any) -> None:
    url = "http://127.0.0.1:9/solr"  # discard port: nothing listens
    cfg = solr_config(tmp_path, eutils_server, [url], "ketlit")
    proc = run_ketlit(["harvest"], cfg)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert url in lines[-1] and "index.solr.urls" in lines[-1]


@pytest.mark.slow
def test_solr_harvest_search_export(tmp_path: Path, eutils_server: Any,
                                    solr_cluster: dict) -> None:
    collection = f"t_{uuid.uuid4().hex[:8]}"
    cfg = solr_config(tmp_path, eutils_server, solr_cluster["solr_urls"], collection)
    try:
        run_ketlit(["harvest"], cfg, check=True)
        _check_totals(cfg, eutils_server)
        before = _alias_target(solr_cluster["solr_urls"][0], collection)
        # reindex builds a new collection from the store, then moves the alias: same totals.
        run_ketlit(["reindex"], cfg, check=True)
        _check_totals(cfg, eutils_server)
        after = _alias_target(solr_cluster["solr_urls"][0], collection)
        assert after != before and after.startswith(collection + "_")
        assert _collections(solr_cluster["solr_urls"][0], collection) == [after]
        similar = _json(["similar", "28775130", "--json"], cfg)
        assert similar["total"] > 0 and "28775130" not in [r["pmid"] for r in similar["results"]]
    finally:
        _drop_collection(solr_cluster["solr_urls"][0], collection)


def _admin(url: str, action: str) -> dict:
    with urllib.request.urlopen(f"{url}/admin/collections?action={action}&wt=json",
                                timeout=120) as r:
        return json.load(r)


def _alias_target(url: str, name: str) -> str:
    return _admin(url, "LISTALIASES")["aliases"][name]


def _collections(url: str, prefix: str) -> list[str]:
    return [c for c in _admin(url, "LIST")["collections"] if c.startswith(prefix + "_")]


def _drop_collection(url: str, name: str) -> None:
    from index.settings import SolrSettings
    from index.solr.client import SolrClient
    from index.solr.collection import delete_collection

    delete_collection(SolrClient([url], 120), SolrSettings(urls=(url,), collection=name))
