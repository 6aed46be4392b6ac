"""The loopback SolrCloud of deploy/solrcloud for tests: find it, start a private one, kill a node."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START = REPO / "deploy" / "solrcloud" / "start"
STOP = REPO / "deploy" / "solrcloud" / "stop"
HOW = ("start one with deploy/solrcloud/start DIR and set "
       "KETLIT_SOLR_CLUSTER=DIR/cluster.json")


def node_answers(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/admin/info/system?wt=json", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def load_cluster() -> tuple[dict, str | None]:
    """(cluster.json's content, None), or ({}, why there is no usable cluster)."""
    path = os.environ.get("KETLIT_SOLR_CLUSTER")
    if not path:
        return {}, f"no SolrCloud for the Solr tests: {HOW}"
    try:
        cluster = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        return {}, f"KETLIT_SOLR_CLUSTER={path} unreadable ({e}): {HOW}"
    dead = [u for u in cluster.get("solr_urls", []) if not node_answers(u)]
    if dead or not cluster.get("solr_urls"):
        return {}, f"SolrCloud of {path} not answering at {', '.join(dead) or 'no URL'}: {HOW}"
    return cluster, None


def start_private(directory: Path, timeout_s: int = 240) -> dict:
    """Start a cluster of its own in ``directory`` (for tests that kill nodes)."""
    env = dict(os.environ, KETLIT_SOLR_HEAP=os.environ.get("KETLIT_SOLR_HEAP", "384m"))
    subprocess.run([str(START), str(directory)], check=True, timeout=timeout_s, env=env,
                   capture_output=True)
    return json.loads((directory / "cluster.json").read_text())


def stop_private(directory: Path) -> None:
    subprocess.run([str(STOP), str(directory)], check=False, timeout=120, capture_output=True)
