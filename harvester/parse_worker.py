"""Parse efetch answers in a helper process, so that parsing does not hold up the index writer.

A harvest fetches and parses in one thread while the main thread writes the index; both are
Python code that needs the interpreter lock, so every millisecond of parsing in this process is
a millisecond the index writer waits (py-spy on a 5,000-record harvest: the parser held the lock
for 14% of the run). In a helper process the parsing runs on the other core. What is left here
is unpickling the Articles, about 40% of what parsing costs (bench/bench_harvest.py measures the
harvest end to end).

How the helper behaves:

- It starts on the first answer large enough to be worth the round trip (``min_bytes``): a run
  that fetches a handful of records, or nothing at all, never starts a process.
- ``spawn``, not ``fork``: a fork of a process with running threads can inherit a lock some
  other thread holds, and a spawned child inherits no file descriptors, so it can never keep the
  harvest lock (an flock) alive after the harvest is gone.
- Stopping is the harvest's decision (between batches, harvester/signals.py), so the helper
  ignores SIGINT and SIGTERM sent to the whole process group; it ends when the harvest closes
  it, or within a second of its parent's death (kill -9), so it is never left behind.
- If the helper dies (the OOM killer, a crash in lxml), the harvest goes on parsing in its own
  process after one warning: the answer in hand is parsed again here, so nothing is lost.
- A parse error in the helper comes back as ``ValueError`` with lxml's message, which the
  E-utilities client treats as any unreadable answer (one of ``PARSE_ERRORS``: retried).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType

from harvester.eutils import PARSE_ERRORS
from harvester.parse import parse_articles
from index.article import Article

log = logging.getLogger("ketlit.harvest")

# An efetch answer is about 20 KB per record, so 256 KB is a dozen records: below that, starting
# a process (0.1-0.3 s) and the round trip cost more than parsing here.
MIN_BYTES = 256 * 1024

# How often the helper checks that its parent is still alive: the delay before an orphaned
# helper exits after kill -9 of the harvest.
PARENT_CHECK_S = 1.0


@dataclass(frozen=True)
class _Unreadable:
    """A parse error, carried back as text: lxml's exception classes do not survive pickling."""

    message: str


def _start_helper(parent: int) -> None:
    """Initializer of the helper process (runs there)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)  # the harvest is gone: nothing to flush, nobody to answer

    threading.Thread(target=watch, name="ketlit-parse-watchdog", daemon=True).start()


def _parse_in_helper(body: bytes) -> list[Article] | _Unreadable:
    """Runs in the helper process."""
    try:
        return parse_articles(body)
    except PARSE_ERRORS as exc:
        return _Unreadable(" ".join(str(exc).split()) or type(exc).__name__)


class ParseWorker:
    """A callable ``bytes -> list[Article]`` (what ``EutilsClient.efetch`` takes as ``parse``)
    that parses in a helper process. Use it as a context manager; call it from one thread."""

    def __init__(self, min_bytes: int = MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._broken = False
        self.parsed_remotely = 0  # answers parsed in the helper (tests and benchmarks read it)

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __call__(self, body: bytes) -> list[Article]:
        if len(body) < self.min_bytes or self._closed or self._broken:
            return parse_articles(body)
        try:
            result = self._helper().submit(_parse_in_helper, body).result()
        except BrokenProcessPool:
            self._broken = True
            log.warning("the parser's helper process died; parsing in the harvest's own "
                        "process from now on")
            return parse_articles(body)
        if isinstance(result, _Unreadable):
            raise ValueError(result.message)
        self.parsed_remotely += 1
        return result

    def _helper(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_helper, initargs=(os.getpid(),))
        return self._pool

    def close(self) -> None:
        """Stop the helper (waiting for a parse in progress, at most one answer's worth)."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
