"""Parse efetch answers in a helper process, so that parsing does not hold up the index writer.

A harvest fetches and parses in one thread while the main thread writes the index; both are
Python code that needs the interpreter lock, so every millisecond of parsing in this process is
a millisecond the index writer waits (py-spy on a 5,000-record harvest: the parser held the lock
for 14% of the run). In a helper process the parsing runs on the other core. What is left here
is unpickling the Articles, about 40% of what parsing costs (bench/bench_harvest.py measures the
harvest end to end).

The helper also analyses each record's text for the index (``index.whoosh.schema.analyse``: tokens,
stems, positions), the most expensive part of indexing that does not need the index: 0.57 ms a
record, against 0.12 ms to unpickle the result. The index writer asks :meth:`ParseWorker.analysis`
for it; an answer is kept for the last few efetch answers only, and a record it has no analysis
for (or whose text no longer matches it) is analysed in the harvest's own process as before.

How the helper behaves:

- It starts on the first answer large enough to be worth the round trip (``min_bytes``): a run
  that fetches a handful of records, or nothing at all, never starts a process.
- It is ``python -m harvester.parse_worker`` talking over its stdin and stdout (a length, then
  the bytes: the answer one way, the pickled Articles the other). Not multiprocessing: its
  ``spawn`` re-runs the caller's main script in the child, so any script that calls
  ``run_harvest`` without an ``if __name__ == "__main__"`` guard would start a second harvest
  there; and a forked child of a threaded process can inherit a lock another thread holds. A
  new interpreter inherits no file descriptors either, so it can never keep the harvest lock (an
  flock) alive.
- Stopping is the harvest's decision (between batches, harvester/signals.py), so the helper
  ignores SIGINT and SIGTERM sent to the whole process group. It ends when the harvest closes
  its stdin, which the kernel also does when the harvest dies (kill -9): it is never left behind.
- If the helper dies (the OOM killer, a crash in lxml), the harvest goes on parsing in its own
  process after one warning: the answer in hand is parsed again here, so nothing is lost.
- A parse error in the helper comes back as ``ValueError`` with lxml's message, which the
  E-utilities client treats as any unreadable answer (one of ``PARSE_ERRORS``: retried).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from harvester.eutils import PARSE_ERRORS
from harvester.parse import parse_articles
from index.annotations import annotate
from index.article import Article
from index.whoosh.schema import Analysis, analyse

log = logging.getLogger("ketlit.harvest")

# An efetch answer is about 20 KB per record, so 256 KB is a dozen records: below that, starting
# a process (0.1-0.3 s) and the round trip cost more than parsing here.
MIN_BYTES = 256 * 1024

_LENGTH = 8  # bytes of the big-endian length before each message

# Analyses of how many recent answers are kept for the index writer. The harvest holds at most a
# few batches between fetching and indexing (two queued, one being committed, one waiting to be
# indexed with the next: harvester/harvest.py); older ones are dropped, and a record whose
# analysis was dropped is simply analysed again by the writer.
KEEP_ANSWERS = 6


@dataclass(frozen=True)
class _Unreadable:
    """A parse error, carried back as text: lxml's exception classes do not survive pickling."""

    message: str


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(_LENGTH, "big"))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    """The next message, or None at a clean end of the stream."""
    head = stream.read(_LENGTH)
    if not head:
        return None
    if len(head) < _LENGTH:
        raise EOFError("the stream ended inside a message")
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the stream ended inside a message")
    return data


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The helper's loop: an answer in, its Articles (or the parse error) out, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while (body := _receive(stdin)) is not None:
        result: tuple[list[Article], list[bytes]] | _Unreadable
        try:
            articles = parse_articles(body)
            for a in articles:
                # annotated here, on the helper's core, like the text analysis below; the store
                # annotates only records that arrive without (ingest, or a parse in-process)
                a.annotations = annotate(a)
        except PARSE_ERRORS as exc:
            result = _Unreadable(" ".join(str(exc).split()) or type(exc).__name__)
        else:
            # Each analysis pickled on its own and unpickled only when the index writer takes
            # it: as bytes it is ~9 KB a record, as Python objects several times that, and a few
            # batches wait between fetching and indexing.
            result = (articles, [pickle.dumps(analyse(a), protocol=pickle.HIGHEST_PROTOCOL)
                                 for a in articles])
        _send(stdout, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


class ParseWorker:
    """A callable ``bytes -> list[Article]`` (what ``EutilsClient.efetch`` takes as ``parse``)
    that parses in a helper process. Use it as a context manager; call it from one thread."""

    def __init__(self, min_bytes: int = MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._broken = False
        self.parsed_remotely = 0  # answers parsed in the helper (tests and benchmarks read it)
        # Per recent answer, PMID -> its analysis. Filled by the fetching thread, emptied by the
        # index writer in the main thread, hence the lock.
        self._analyses: deque[dict[str, bytes]] = deque(maxlen=KEEP_ANSWERS)
        self._lock = threading.Lock()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __call__(self, body: bytes) -> list[Article]:
        if len(body) < self.min_bytes or self._closed or self._broken:
            return parse_articles(body)
        try:
            proc = self._helper()
            assert proc.stdin is not None and proc.stdout is not None
            _send(proc.stdin, body)
            answer = _receive(proc.stdout)
            if answer is None:
                raise EOFError("the helper closed its output")
            result = pickle.loads(answer)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            self._broken = True
            log.warning("the parser's helper process failed (%s); parsing in the harvest's own "
                        "process from now on", exc)
            self._stop()
            return parse_articles(body)
        if isinstance(result, _Unreadable):
            raise ValueError(result.message)
        articles, analyses = result
        with self._lock:
            self._analyses.append({a.pmid: x for a, x in zip(articles, analyses, strict=True)})
        self.parsed_remotely += 1
        return articles

    def analysis(self, article: Article) -> Analysis | None:
        """The helper's analysis of ``article``'s text, once (the newest answer's if it came
        more than once), or None. ``index.whoosh.schema.article_to_document`` checks that it matches
        the article's text."""
        with self._lock:
            for answer in reversed(self._analyses):
                found = answer.pop(article.pmid, None)
                if found is not None:
                    break
            else:
                return None
        analysis = pickle.loads(found)
        return analysis if isinstance(analysis, Analysis) else None

    def _helper(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            # The package's root on the path, for a ketlit run from a checkout without install.
            root = str(Path(__file__).resolve().parents[1])
            path = os.environ.get("PYTHONPATH")
            env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "harvester.parse_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, env=env, cwd=root)
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                # A broken pipe to a dead helper: nothing left to flush.
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Stop the helper: it finishes the answer in hand, if any, sees its input end and exits."""
        self._closed = True
        self._stop()


if __name__ == "__main__":
    # Through the module's real name, so that what is pickled names harvester.parse_worker (the
    # harvest cannot unpickle classes of its helper's __main__).
    from harvester.parse_worker import serve as _serve

    with contextlib.suppress(BrokenPipeError):  # the harvest is gone: nobody to answer
        _serve(sys.stdin.buffer, sys.stdout.buffer)
