"""ketlit's collection on a SolrCloud: its configset (configset/ in this package), created when
missing, and checked to be of this ketlit's schema version.

The schema's name carries the version (SOLR_SCHEMA_NAME): index.whoosh.schema.SCHEMA_VERSION, which
changes with the analysis the documents carry, and CONFIGSET_REVISION, which changes with the
Solr schema itself. A collection made by another version is reported as needing
``ketlit reindex``, which builds a new collection from the record store.

The configured name is an alias: ketlit's collections are named after it plus a stamp, and
``ketlit reindex`` fills a new one while searches go on in the old one, then moves the alias
over and deletes the old collection.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from index.errors import IndexMissingError
from index.settings import SolrSettings
from index.solr.client import SolrClient, SolrRequestError
from index.whoosh.schema import SCHEMA_VERSION

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


def _collections(client: SolrClient) -> list[str]:
    answer = client.request("GET", "admin/collections", params={"action": "LIST", "wt": "json"})
    return list(answer.get("collections", []))


def _aliases(client: SolrClient) -> dict[str, list[str]]:
    answer = client.request("GET", "admin/collections",
                            params={"action": "LISTALIASES", "wt": "json"})
    return {k: v.split(",") for k, v in (answer.get("aliases") or {}).items()}


def collection_exists(client: SolrClient, name: str) -> bool:
    return name in _aliases(client) or name in _collections(client)


def upload_configset(client: SolrClient) -> None:
    client.request("POST", "admin/configs",
                   params={"action": "UPLOAD", "name": CONFIGSET_NAME, "overwrite": "true",
                           "cleanup": "true", "wt": "json"},
                   data=configset_zip(), headers={"Content-Type": "application/octet-stream"})


def create_collection(client: SolrClient, cfg: SolrSettings) -> str:
    """A new collection named after the configured one plus a stamp (its alias points at it
    once it is filled: see :func:`point_alias`); its name is returned."""
    upload_configset(client)
    real = f"{cfg.collection}_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:4]}"
    client.request("GET", "admin/collections", params={
        "action": "CREATE", "name": real, "numShards": cfg.shards,
        "replicationFactor": cfg.replicas, "collection.configName": CONFIGSET_NAME,
        "waitForFinalState": "true", "wt": "json"}, timeout_s=max(cfg.timeout_s, 180))
    return real


def point_alias(client: SolrClient, cfg: SolrSettings, real: str) -> None:
    """The configured name becomes an alias of ``real`` (searches move over at once); the
    collections it named before are deleted. A collection of the configured name itself (made
    by hand, or by another tool) is deleted first: an alias cannot share its name."""
    old = [c for c in _aliases(client).get(cfg.collection, []) if c != real]
    if cfg.collection in _collections(client):
        _delete(client, cfg, cfg.collection)
    client.request("GET", "admin/collections", params={
        "action": "CREATEALIAS", "name": cfg.collection, "collections": real, "wt": "json"})
    for name in old:
        _delete(client, cfg, name)


def make_collection(client: SolrClient, cfg: SolrSettings) -> None:
    point_alias(client, cfg, create_collection(client, cfg))


def _delete(client: SolrClient, cfg: SolrSettings, name: str) -> None:
    client.request("GET", "admin/collections", params={"action": "DELETE", "name": name,
                                                       "wt": "json"},
                   timeout_s=max(cfg.timeout_s, 180))


def delete_collection(client: SolrClient, cfg: SolrSettings, name: str | None = None) -> None:
    """Delete the configured collection (its alias and what it points at), or ``name``."""
    if name is not None:
        _delete(client, cfg, name)
        return
    targets = _aliases(client).get(cfg.collection)
    if targets is not None:
        client.request("GET", "admin/collections", params={
            "action": "DELETEALIAS", "name": cfg.collection, "wt": "json"})
        for target in targets:
            _delete(client, cfg, target)
    elif cfg.collection in _collections(client):
        _delete(client, cfg, cfg.collection)


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
            f"needs {SOLR_SCHEMA_NAME}: run `ketlit reindex` (it builds a new collection from "
            "the stored records)")


def ensure_collection(client: SolrClient, cfg: SolrSettings) -> bool:
    """Create the collection when missing (True if it was created); check its schema version."""
    created = False
    if not collection_exists(client, cfg.collection):
        make_collection(client, cfg)
        created = True
    check_schema(client, cfg)
    return created
