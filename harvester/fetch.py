"""The fetch side of a harvest pass, run in a producer thread (harvester/harvest.py commits).

Per date window: esearch (split the window when it reaches the cap), decide what to fetch (what
the store lacks, what PubMed modified after our copy, everything with --full) and what only needs
this topic's tag, then efetch in batches. Items go to the committing thread through
:func:`pipelined`, a small queue, so the network and the parser (a helper process) overlap with
the SQLite and index writes while memory stays bounded to a couple of batches.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from harvester.source import MODIFIED, Found, Parse, Source
from harvester.windows import Window, WindowWalk
from index.article import Article
from index.errors import HarvestError
from index.settings import Topic
from index.store import RecordStore

log = logging.getLogger("ketlit.harvest")

MDAT = MODIFIED


@dataclass
class WindowStart:
    window: Window
    datetype: str
    to_fetch: int


@dataclass
class Batch:
    articles: list[Article]


@dataclass
class Tag:
    pmids: list[str]


@dataclass
class WindowDone:
    window: Window
    datetype: str
    ids: list[str]
    missing: list[str]


Item = WindowStart | Batch | Tag | WindowDone


class Stopped(Exception):
    """Raised in the committing thread when a stop was requested between batches."""


_END = object()


@dataclass
class _Failure:
    exc: BaseException


def pipelined(produce: Callable[[threading.Event], Iterator[Item]], stop: threading.Event,
               abandon: Callable[[], bool], depth: int = 2) -> Iterator[Item]:
    """Run ``produce`` in a thread, yielding its items here; at most ``depth`` items wait.

    The small queue bounds memory to a couple of batches whatever the number of records. If the
    consumer stops early (error, signal), ``stop`` tells the producer (and its HTTP client) to
    give up. When ``abandon()`` turns true (SIGTERM/SIGINT) while the producer is inside an HTTP
    request, we do not wait for the answer (up to pubmed.timeout_s): Stopped is raised at once
    and the daemon thread is left to notice the stop and end by itself.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)

    def put(item: Any) -> bool:
        while True:
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                if stop.is_set():
                    return False

    def worker() -> None:
        try:
            for item in produce(stop):
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))

    thread = threading.Thread(target=worker, name="ketlit-fetch", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                if abandon():
                    raise Stopped from None
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=1 if abandon() else 30)


class WindowFetcher:
    """The producer of one harvest run: ``produce`` walks a topic's windows and yields pipeline
    items. ``parse``: the parse helper (harvester/parse_worker.py); ``answered``: called each
    time the source answers a search (the run tells an unreachable server from a failed topic
    by it)."""

    def __init__(self, store_path: Path, cap: int, batch: int, parse: Parse,
                 answered: Callable[[], None]) -> None:
        self.store_path = store_path
        self.cap = cap
        self.batch = batch
        self.parse = parse
        self.answered = answered

    def produce(self, topic: Topic, client: Source, walk: WindowWalk, datetype: str, *,
                refetch: bool = False) -> Iterator[Item]:
        parse = self.parse
        reader = RecordStore(self.store_path)  # this thread's own connection
        try:
            while (w := walk.next()) is not None:
                res = self._esearch(client, topic, w, datetype, usehistory=True)
                if res.count >= self.cap:
                    if not w.can_split():
                        raise HarvestError(
                            f"{topic.name}: {res.count} records on the single day {w.start} "
                            f"({datetype}) reach pubmed.max_results_per_query ({self.cap}), so "
                            f"the window cannot be split below the cap; query: {topic.query}")
                    older, newer = walk.split(w)
                    log.debug("%s: %s has %d records, split into %s and %s", topic.name, w,
                              res.count, older, newer)
                    continue
                ids = list(dict.fromkeys(str(i) for i in res.ids))
                if len(ids) < res.count:
                    raise HarvestError(f"{topic.name}: esearch for {w} announced {res.count} "
                                       f"records but listed {len(ids)}; try again later")
                known = reader.known(ids)
                if refetch:
                    fetch = list(ids)
                elif datetype == MDAT:
                    fetch = self._mdat_needs_fetch(client, topic, w, ids, known)
                else:
                    fetch = [p for p in ids if p not in known]
                fetch_set = set(fetch)
                tag = [p for p in ids if p in known and p not in fetch_set
                       and topic.name not in known[p][1]]
                yield WindowStart(w, datetype, len(fetch))
                if tag:
                    yield Tag(tag)
                missing: list[str] = []
                if fetch:
                    yield from self._fetch(client, res, ids, fetch, parse, missing)
                yield WindowDone(w, datetype, ids, missing)
                walk.done(w)
        finally:
            reader.close()

    def _esearch(self, client: Source, topic: Topic, w: Window, datetype: str, *,
                 usehistory: bool) -> Found:
        res = client.search(topic.query, datetype=datetype, mindate=w.start, maxdate=w.end,
                            retmax=self.cap, keep=usehistory)
        self.answered()  # PubMed answered (harvest_topic reads it after the fetch thread)
        return res

    def _mdat_needs_fetch(self, client: Source, topic: Topic, w: Window, ids: list[str],
                          known: dict[str, tuple[str | None, set[str]]]) -> list[str]:
        """Which of the records PubMed modified in ``w`` are newer than our copy.

        PubMed's mdat is the record's DateRevised, which the parser keeps as ``revised_date``;
        but esearch only says that a record's mdat lies somewhere in the window, not on which day.
        So, comparing dates of the record's content (never our wall clock, which index lag makes
        unreliable):
        - a record we do not have, or whose copy carries no revised date, is fetched;
        - a copy revised before the window started is older than the modification PubMed lists;
        - a copy revised on day r inside the window is fetched only if PubMed lists the record as
          modified on or after r + 1 (one more esearch per distinct r, no efetch).
        So a run with nothing new fetches nothing, and a second revision that lands inside the
        overlap is still caught (a day-granular date cannot tell two revisions of the same day
        apart; the next revision brings the record up to date).
        """
        start = w.start.isoformat()
        fetch: list[str] = []
        ambiguous: dict[str, list[str]] = {}
        for p in ids:
            revised = known[p][0] if p in known else None
            if revised is None or revised[:10] < start:
                fetch.append(p)
            else:
                ambiguous.setdefault(revised[:10], []).append(p)
        for day in sorted(ambiguous):
            after = date.fromisoformat(day) + timedelta(days=1)
            if after > w.end:
                continue  # our copy is from the window's last day: nothing can be newer
            res = self._esearch(client, topic, Window(after, w.end), MDAT, usehistory=False)
            if res.count >= self.cap:
                fetch.extend(ambiguous[day])  # cannot list them all: fetch to be safe
                continue
            modified = {str(i) for i in res.ids}
            fetch.extend(p for p in ambiguous[day] if p in modified)
        order = {p: i for i, p in enumerate(ids)}
        return sorted(set(fetch), key=order.__getitem__)

    def _fetch(self, client: Source, res: Found, ids: list[str], fetch: list[str],
               parse: Parse, missing: list[str]) -> Iterator[Item]:
        expected = set(fetch)
        got: set[str] = set()
        retry: list[str] = []
        if len(fetch) == len(ids) and res.handle is not None:
            # Everything in the window: page through the esearch history (no id lists sent).
            for start in range(0, len(ids), self.batch):
                n = min(self.batch, len(ids) - start)
                arts = client.fetch_page(res, start, n, parse)
                batch = _dedupe(a for a in arts if a.pmid in expected and a.pmid not in got)
                got.update(a.pmid for a in batch)
                # Compare what came back with what this page should hold: a short page is
                # re-asked by id below, never taken as "no records".
                retry.extend(p for p in ids[start:start + n] if p not in got)
                if batch:
                    yield Batch(batch)
        else:
            retry = list(fetch)
        for start in range(0, len(retry), self.batch):
            chunk = [p for p in retry[start:start + self.batch] if p not in got]
            if not chunk:
                continue
            result = client.fetch(chunk, parse)
            batch = _dedupe(a for a in result.articles if a.pmid in expected and a.pmid not in got)
            got.update(a.pmid for a in batch)
            missing.extend(str(p) for p in result.missing if str(p) not in got)
            if batch:
                yield Batch(batch)


def _dedupe(articles: Iterable[Article]) -> list[Article]:
    """One Article per PMID (the last one wins), in first-seen order."""
    out: dict[str, Article] = {}
    for a in articles:
        out[a.pmid] = a
    return list(out.values())
