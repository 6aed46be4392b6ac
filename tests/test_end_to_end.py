"""Issue 2's path, end to end through the real `ketlit` console script and the loopback server:
harvest -> search --json -> export --format ris -> read back with rispy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rispy

from tests.helpers import run_ketlit, write_config

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

# Queries the loopback server evaluates like PubMed would (words over title, abstract, MeSH).
TOPICS = {
    "thyroid": {"label": "Thyroid", "query": "thyroid OR hypothyroidism OR pesticide*"},
    "cancer": {"label": "Cancer", "query": "cancer[tiab] OR neoplasms[mh] OR thyroid"},
}


def _config(tmp_path: Path, server: Any, **pubmed: Any) -> Path:
    return write_config(
        tmp_path,
        topics=TOPICS,
        pubmed={"base_url": server.base_url, "batch_size": 25, "timeout_s": 5,
                "backoff_base_s": 0.01, "requests_per_second": 20, **pubmed},
    )


def test_harvest_search_export_round_trip(tmp_path: Path, eutils_server: Any) -> None:
    cfg = _config(tmp_path, eutils_server)
    run_ketlit(["harvest"], cfg, check=True)

    expected = set()
    for t in TOPICS.values():
        expected |= set(eutils_server.db.pmids_matching(t["query"]))
    assert len(expected) > 30, "the test queries should match a real part of the shared records"

    stats = json.loads(run_ketlit(["stats", "--json"], cfg, check=True).stdout)
    assert stats["total"] == len(expected)
    assert set(stats["topics"]) == set(TOPICS)
    for name, t in TOPICS.items():
        assert stats["topics"][name] == len(eutils_server.db.pmids_matching(t["query"]))

    # A known record (PMID 28775130, occupational pesticide exposure) found by a word that
    # appears only in its abstract, not its title.
    out = json.loads(run_ketlit(["search", "aldrin", "--json"], cfg, check=True).stdout)
    assert "28775130" in [r["pmid"] for r in out["results"]]
    hit = next(r for r in out["results"] if r["pmid"] == "28775130")
    assert hit["title"].startswith("Occupational pesticide exposure")
    assert set(hit["topics"]) == {"thyroid", "cancer"} or "thyroid" in hit["topics"]
    for key in ("query", "total", "page", "per_page", "results", "facets"):
        assert key in out

    ris = tmp_path / "thyroid.ris"
    run_ketlit(["export", "--topic", "thyroid", "--format", "ris", "-o", str(ris)], cfg, check=True)
    with ris.open(encoding="utf-8") as fh:
        entries = rispy.load(fh)
    thyroid = set(eutils_server.db.pmids_matching(TOPICS["thyroid"]["query"]))
    assert len(entries) == len(thyroid)
    shown = {p: json.loads(run_ketlit(["show", p, "--json"], cfg, check=True).stdout)
             for p in sorted(thyroid)[:10]}
    # RIS titles drop PubMed's closing period, as Zotero's own PubMed import does.
    titles = {(e.get("title") or e.get("primary_title")).rstrip(".") for e in entries}
    for rec in shown.values():
        assert rec["title"].rstrip(".") in titles

    # A second run with nothing new adds nothing and fetches no records.
    before = len(eutils_server.requests)
    run_ketlit(["harvest"], cfg, check=True)
    fetches = [r for r in eutils_server.requests[before:] if "efetch" in r.endpoint]
    assert fetches == []
    stats2 = json.loads(run_ketlit(["stats", "--json"], cfg, check=True).stdout)
    assert stats2["total"] == stats["total"]


def _clean_failure(proc: Any) -> str:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr
    assert lines and lines[-1].startswith("ketlit: ")
    return lines[-1]


def test_harvest_with_server_down_says_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, topics=TOPICS,
                       pubmed={"base_url": "http://127.0.0.1:9/", "max_retries": 1,
                               "backoff_base_s": 0.01, "timeout_s": 2})
    line = _clean_failure(run_ketlit(["harvest"], cfg))
    assert "127.0.0.1:9" in line or "reach" in line


def test_search_on_empty_index_and_malformed_query(tmp_path: Path, eutils_server: Any) -> None:
    cfg = _config(tmp_path, eutils_server)
    line = _clean_failure(run_ketlit(["search", "ketamine"], cfg))
    assert "ketlit harvest" in line
    run_ketlit(["harvest", "--topic", "thyroid"], cfg, check=True)
    line = _clean_failure(run_ketlit(["search", "(thyroid AND"], cfg))
    assert "query" in line.lower()
