"""deploy/solrcloud: the loopback cluster the Solr backend is tested against."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow


def test_cluster_json_names_live_nodes_and_zookeeper(solr_cluster: dict) -> None:
    assert set(solr_cluster) == {"solr_urls", "zk_host", "pids"}
    assert len(solr_cluster["solr_urls"]) == 2
    assert set(solr_cluster["pids"]) == {"zk", "solr1", "solr2"}
    for pid in solr_cluster["pids"].values():
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"ketlit.solrcloud.Launcher" in cmdline  # each its own process
    host, port = solr_cluster["zk_host"].split(":")
    assert host == "127.0.0.1" and int(port) > 0
    url = solr_cluster["solr_urls"][0]
    with urllib.request.urlopen(f"{url}/admin/collections?action=CLUSTERSTATUS&wt=json",
                                timeout=10) as r:
        live = json.load(r)["cluster"]["live_nodes"]
    assert len(live) == 2


def test_cluster_json_is_where_the_env_says(solr_cluster: dict) -> None:
    path = Path(os.environ["KETLIT_SOLR_CLUSTER"])
    assert json.loads(path.read_text()) == solr_cluster
