"""One long-lived Searcher for the server, moved to the newest index before each use.

Opening a Searcher loads the vocabulary and opens the Whoosh index and the store: tens of
milliseconds that a request should not pay each time. The Searcher is refreshed (a cheap check)
before every use, so a harvest or a reindex that committed meanwhile is seen by the next request.
Uses are serialised by a lock: the Searcher's record-store connection is one SQLite connection,
and a local single-user server gains nothing from running searches side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from index.errors import IndexMissingError
from index.settings import Settings


class SharedSearcher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._searcher: Any = None

    @contextmanager
    def use(self) -> Iterator[Any]:
        from search.searcher import Searcher

        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher(self.settings)  # IndexMissingError -> 503, retried
            else:
                try:
                    self._searcher.refresh()
                except IndexMissingError:
                    self._close()
                    raise
            yield self._searcher

    def _close(self) -> None:
        if self._searcher is not None:
            searcher, self._searcher = self._searcher, None
            searcher.close()

    def close(self) -> None:
        with self._lock:
            self._close()
