"""A small pool of long-lived Searchers for the server, each moved to the newest index before use.

Opening a Searcher loads the vocabulary and opens the index and the store: tens of milliseconds
that a request should not pay each time. A Searcher is refreshed (a cheap check) before every
use, so a harvest or a reindex that committed meanwhile is seen by the next request.

A Searcher serves one request at a time (its record-store connection is one SQLite connection),
so the server keeps up to ``size`` of them: one slow search (a wide truncation, a large export)
holds only its own, and the others go on answering. Every search also has a time budget
(``search.timeout_s``), so none holds one for long.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from index.settings import Settings

POOL_SIZE = 4  # searches at once; each Searcher holds its own caches of the index (~MBs)


class SharedSearcher:
    def __init__(self, settings: Settings, size: int = POOL_SIZE) -> None:
        self.settings = settings
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[Any] = []
        self._opened = 0  # Searchers that exist (idle or in use)
        self._closed = False

    @contextmanager
    def use(self) -> Iterator[Any]:
        searcher = self._take()
        ok = False
        try:
            searcher.refresh()  # IndexMissingError (index gone): this Searcher is dropped
            ok = True
            yield searcher
        finally:
            self._give_back(searcher, keep=ok)

    def _take(self) -> Any:
        from search.searcher import Searcher

        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._opened < self.size:
                    self._opened += 1
                    break
                self._cond.wait()
        try:
            return Searcher(self.settings)  # IndexMissingError -> 503, retried next request
        except BaseException:
            with self._cond:
                self._opened -= 1
                self._cond.notify()
            raise

    def _give_back(self, searcher: Any, keep: bool) -> None:
        with self._cond:
            if keep and not self._closed:
                self._idle.append(searcher)
                self._cond.notify()
                return
            self._opened -= 1
            self._cond.notify()
        searcher.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
        for searcher in idle:
            searcher.close()
