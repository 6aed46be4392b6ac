"""File locks beside the index: one index writer at a time, one reindex at a time.

Why our own lock rather than Whoosh's: Whoosh's writer lock lives inside the index directory,
which a rebuild replaces; a writer that waited on the old directory's lock would write into a
directory that is about to be deleted. ``index.lock`` lives in data_dir, beside the index link,
and every backend's writer (Whoosh's, and the Solr collection's sessions) holds it, so a
reindex's catch-up and swap never miss a harvest's batch.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from index.errors import LockedError
from index.settings import Settings

WRITER_LOCK_NAME = "index.lock"


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """An exclusive fcntl lock on ``path``, waited for up to ``timeout`` s (LockedError(what)
    after); released when the block ends, and by the kernel when the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh: IO[Any] = open(path, "a+")  # noqa: SIM115 - held for the whole context
    try:
        deadline = time.monotonic() + max(timeout, 0)
        delay = 0.02
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockedError(what) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def writer_lock(settings: Settings, timeout: float,
                what: str | None = None) -> contextlib.AbstractContextManager[None]:
    """The lock every index writer holds (harvest, ingest, reindex's catch-up and swap)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return file_lock(settings.data_dir / WRITER_LOCK_NAME, timeout, what or (
        f"the index is being written by another process (harvest, ingest or reindex) and "
        f"stayed locked for {timeout:g}s; try again when it has finished"))
