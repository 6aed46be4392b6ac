"""Where the Whoosh backend's live index lives and how it is opened: the ``index`` symlink and
its timestamped directories, the schema version marker, and the checks a search makes before it
reads (index/whoosh/writer.py says why the layout is a symlink; it writes, this module finds).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from index.errors import IndexMissingError
from index.settings import Settings
from index.store import RecordStore
from index.whoosh import buffers
from index.whoosh.schema import SCHEMA_VERSION, build_schema

VERSION_FILE = "KETLIT_SCHEMA"


def open_dir(directory: Path) -> Any:
    """The one place the Whoosh backend opens an index. It installs the BufferFile patch first:
    every reader (a search's, or a writer's for update_document's delete by PMID and segment
    merges) would otherwise copy the index's whole terms and postings files into memory, so
    memory grew with the index (index/whoosh/buffers.py measures it)."""
    buffers.install()
    return whoosh_index.open_dir(str(directory))


# -- locations ------------------------------------------------------------------------------------


def live_index_dir(settings: Settings) -> Path | None:
    """The directory the live index is in (the symlink resolved), or None when there is none."""
    link = settings.index_dir
    if not os.path.lexists(link):
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


def new_index_dir(settings: Settings) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return settings.data_dir / f"index-{stamp}-{uuid.uuid4().hex[:6]}"


def point_link_at(settings: Settings, target: Path) -> None:
    """Atomically make data_dir/index point at ``target`` (a sibling directory)."""
    link = settings.index_dir
    if link.is_dir() and not link.is_symlink():
        # An index directory from an older layout: move it aside first (not atomic, one-off).
        link.rename(settings.data_dir / f"index-legacy-{uuid.uuid4().hex[:6]}")
    tmp = settings.data_dir / f".index-link-{uuid.uuid4().hex[:6]}"
    os.symlink(target.name, tmp)
    os.replace(tmp, link)
    _fsync_dir(settings.data_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_empty_index(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=False)
    buffers.install()
    whoosh_index.create_in(str(directory), build_schema())
    (directory / VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n", encoding="ascii")


def index_schema_version(directory: Path) -> int | None:
    try:
        return int((directory / VERSION_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def check_version(settings: Settings, directory: Path) -> None:
    version = index_schema_version(directory)
    if version != SCHEMA_VERSION:
        raise IndexMissingError(
            f"the index at {settings.index_dir} was built with schema version {version} but this "
            f"ketlit needs version {SCHEMA_VERSION}: run `ketlit reindex` (offline, from the "
            "stored records)")


def remove_stale_dirs(settings: Settings, keep: Path | None) -> None:
    """Index directories left by a crashed rebuild (never the live one)."""
    for p in settings.data_dir.glob("index-*"):
        if keep is None or p.resolve() != keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in settings.data_dir.glob(".index-link-*"):
        with contextlib.suppress(OSError):
            p.unlink()


# -- checking --------------------------------------------------------------------------------------


def check_index(settings: Settings) -> None:
    """Raise IndexMissingError, naming the remedy, unless the live index can be searched."""
    if settings.index.backend == "solr":
        from index.solr.backend import SolrIndex

        with SolrIndex(settings) as solr:
            solr.check_searchable(0 if _store_is_empty(settings) else 1)
        return
    _open_checked(settings).close()


def open_index(settings: Settings) -> Any:
    """The live Whoosh index, opened after the checks of :func:`check_index`."""
    return _open_checked(settings)


def _store_is_empty(settings: Settings) -> bool:
    if not settings.store_path.exists():
        return True
    store = RecordStore(settings.store_path, readonly=True)
    try:
        return store.count() == 0
    finally:
        store.close()


def _open_checked(settings: Settings) -> Any:
    directory = live_index_dir(settings)
    if directory is None:
        if _store_is_empty(settings):
            raise IndexMissingError(
                "the index is empty: run `ketlit harvest` or `ketlit ingest FILE` first")
        raise IndexMissingError(f"no search index at {settings.index_dir}: run `ketlit reindex` "
                                "to rebuild it from the stored records (offline)")
    check_version(settings, directory)
    last_error: Exception | None = None
    for _attempt in range(5):
        try:
            ix = open_dir(directory)
            # Opening a reader touches every segment file: this is where corruption shows.
            ix.reader().close()
            return ix
        except FileNotFoundError as exc:
            # A commit merged segments between reading the table of contents and opening them;
            # the next try reads the new table of contents.
            last_error = exc
            time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - a damaged index raises anything (struct, EOF...)
            last_error = exc
            break
    raise IndexMissingError(
        f"the index at {settings.index_dir} cannot be read ({type(last_error).__name__}: "
        f"{last_error}): run `ketlit reindex` to rebuild it from the stored records (offline)")
