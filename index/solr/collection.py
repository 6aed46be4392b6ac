"""ketlit's collection on a SolrCloud: its configset (configset/ in this package), created when
missing, and checked to be of this ketlit's schema version.

The schema's name carries the version (SOLR_SCHEMA_NAME): index.schema.SCHEMA_VERSION, which
changes with the analysis the documents carry, and CONFIGSET_REVISION, which changes with the
Solr schema itself. A collection made by another version is reported as needing
``ketlit reindex``, which deletes and recreates it from the record store.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from index.errors import IndexMissingError
from index.schema import SCHEMA_VERSION
from index.settings import SolrSettings
from index.solr.client import SolrClient, SolrRequestError

CONFIGSET_DIR = Path(__file__).resolve().parent / "configset"
CONFIGSET_REVISION = 1
SOLR_SCHEMA_NAME = f"ketlit-{SCHEMA_VERSION}.{CONFIGSET_REVISION}"
CONFIGSET_NAME = SOLR_SCHEMA_NAME


def configset_zip() -> bytes:
    """The configset as the Configsets API takes it (a zip of the files, schema name filled in)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(CONFIGSET_DIR.iterdir()):
            if path.is_file():
                text = path.read_text(encoding="utf-8").replace("@VERSION@",
                                                                 SOLR_SCHEMA_NAME[len("ketlit-"):])
                z.writestr(path.name, text)
    return buf.getvalue()


def collection_exists(client: SolrClient, name: str) -> bool:
    answer = client.request("GET", "admin/collections",
                            params={"action": "LIST", "wt": "json"})
    if name in answer.get("collections", []):
        return True
    aliases = client.request("GET", "admin/collections",
                             params={"action": "LISTALIASES", "wt": "json"})
    return name in (aliases.get("aliases") or {})


def upload_configset(client: SolrClient) -> None:
    client.request("POST", "admin/configs",
                   params={"action": "UPLOAD", "name": CONFIGSET_NAME, "overwrite": "true",
                           "cleanup": "true", "wt": "json"},
                   data=configset_zip(), headers={"Content-Type": "application/octet-stream"})


def create_collection(client: SolrClient, cfg: SolrSettings) -> None:
    upload_configset(client)
    client.request("GET", "admin/collections", params={
        "action": "CREATE", "name": cfg.collection, "numShards": cfg.shards,
        "replicationFactor": cfg.replicas, "collection.configName": CONFIGSET_NAME,
        "waitForFinalState": "true", "wt": "json"}, timeout_s=max(cfg.timeout_s, 180))


def delete_collection(client: SolrClient, cfg: SolrSettings) -> None:
    if collection_exists(client, cfg.collection):
        client.request("GET", "admin/collections", params={
            "action": "DELETE", "name": cfg.collection, "wt": "json"},
            timeout_s=max(cfg.timeout_s, 180))


def schema_name(client: SolrClient, collection: str) -> str | None:
    try:
        answer: dict[str, Any] = client.request("GET", f"{collection}/schema/name",
                                                params={"wt": "json"})
    except SolrRequestError as exc:
        if exc.status == 404:
            return None
        raise
    return answer.get("name")


def check_schema(client: SolrClient, cfg: SolrSettings) -> None:
    name = schema_name(client, cfg.collection)
    if name != SOLR_SCHEMA_NAME:
        raise IndexMissingError(
            f"the Solr collection {cfg.collection!r} was made with schema {name} but this ketlit "
            f"needs {SOLR_SCHEMA_NAME}: run `ketlit reindex` (it recreates the collection from "
            "the stored records)")


def ensure_collection(client: SolrClient, cfg: SolrSettings) -> bool:
    """Create the collection when missing (True if it was created); check its schema version."""
    created = False
    if not collection_exists(client, cfg.collection):
        create_collection(client, cfg)
        created = True
    check_schema(client, cfg)
    return created
