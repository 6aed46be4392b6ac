"""Harvest orchestration: bring the record store and the index in step with PubMed, per topic.

The unit of safety is the batch. Each batch goes, in this order:

1. the record store (SQLite, one transaction: records, topics, fetch dates),
2. the Whoosh index (one writer, one commit), once ``batch_size`` records wait for it or the pass
   ends: a date window's short last batch is indexed with the next window's first one,
3. ``mark_indexed`` in the store,
4. the checkpoint (the resumable position), written only after the batch it covers is in the
   store.

Why the index may lag the store by less than a batch: each commit makes a Whoosh segment, and
the short batches at window ends made tiny segments that brought segment merges on early (a
10,000-record harvest merged twice as many records as the same documents indexed in full
batches). The store is the source of truth, so nothing is lost if the run dies in between.

The Catalog (index/catalog.py) owns steps 1-3 (and the index's batching): this module decides
what to fetch and when a checkpoint moves, never how a record is written.

A kill -9 between any two steps leaves a state the next run repairs: rows the index lacks are
flagged indexed=0 and ``Catalog.catch_up`` applies them at the start of the next run; a checkpoint
never claims more than what is committed, so the next run re-reads at most one window, and
re-reading is harmless because every write is an upsert keyed on the PMID.

Which records a run fetches:

* first run of a topic (and ``--full``): a walk over create-date windows from the start of
  PubMed's history to today (harvester/windows.py), each window under the esearch cap;
* normal run: the create-date window since the last completed day minus ``overlap_days``, plus a
  modification-date (mdat) pass over the same window so revised records replace the old ones.

A record is fetched only when the store lacks it, when ``--full`` asks to refresh everything, or
when PubMed modified it after we last fetched it (see ``_mdat_needs_fetch``). A record the store
already has from another topic is tagged with this topic without being fetched again. So a second
run with nothing new on the server sends esearch requests only, never an efetch.

Fetching runs in a producer thread (harvester/fetch.py) while the main thread commits, and
parsing in a helper process (harvester/parse_worker.py), so the network and the parser overlap with SQLite and Whoosh
writes without taking the interpreter lock from them (bench/bench_harvest.py measures it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from harvester.fetch import (
    Batch,
    Item,
    Stopped,
    Tag,
    WindowDone,
    WindowFetcher,
    WindowStart,
    pipelined,
)
from harvester.lock import harvest_lock
from harvester.report import HarvestReport, TopicReport
from harvester.signals import StopFlag, stop_on_signals
from harvester.source import (
    CREATED,
    MODIFIED,
    Source,
    SourceFactory,
    pubmed_source,
)
from harvester.windows import WindowWalk, full_history, incremental_window, remaining
from index.article import Article
from index.catalog import Catalog, writable_index
from index.errors import ConfigError, HarvestError, KetlitError, UsageError
from index.progress import Progress, Task, as_progress
from index.settings import Settings, Topic
from index.store import RecordStore

log = logging.getLogger("ketlit.harvest")

EDAT = CREATED  # PubMed's date types (harvester.source)
MDAT = MODIFIED


# -- the run ----------------------------------------------------------------------------------------


def _today() -> date:
    # UTC is ahead of PubMed's US Eastern dates, so "today" in UTC never ends a window early.
    return datetime.now(UTC).date()


def select_topics(settings: Settings, names: Iterable[str] | None) -> list[Topic]:
    if not settings.topics:
        where = settings.config_path or "config.yaml"
        raise ConfigError(f"no topics configured: add at least one under 'topics:' in {where} "
                          "(each with a PubMed 'query')")
    if not names:
        return list(settings.topics.values())
    chosen: list[Topic] = []
    for name in dict.fromkeys(names):
        if name not in settings.topics:
            raise UsageError(f"--topic: no topic named {name!r} (known: "
                             f"{', '.join(settings.topics)})")
        chosen.append(settings.topics[name])
    return chosen


def run_harvest(settings: Settings, topics: list[str] | None = None, full: bool = False,
                since: date | None = None, wait: bool = False,
                progress: Progress | bool | None = None, *,
                stop: StopFlag | None = None,
                source: SourceFactory | None = None) -> HarvestReport:
    """Harvest the named topics (all when None). See the module docstring for the guarantees.

    Raises UsageError/ConfigError for bad arguments, LockedError when another harvest runs (unless
    ``wait``), HarvestError when PubMed cannot be reached at all, IndexMissingError when the index
    needs ``ketlit reindex`` first. A topic that fails after retries is reported in the returned
    report while the other topics still run. ``source`` makes the Source each topic is walked
    with (default: PubMed's E-utilities, harvester.source.PubMedSource).
    """
    chosen = select_topics(settings, topics)
    today = _today()
    if since is not None and since > today:
        raise UsageError(f"--since: {since} is in the future")
    # An index of another schema version (after an upgrade) would fail every topic's first
    # commit after its records were fetched: say so before fetching anything.
    writable_index(settings).check_writable()
    flag = stop or StopFlag()
    with stop_on_signals(flag), harvest_lock(settings.lock_path, wait=wait, should_stop=flag):
        store = RecordStore(settings.store_path)
        try:
            store.check()
            return _Run(settings, store, flag, today, as_progress(progress),
                        source or pubmed_source).run(chosen, full=full, since=since)
        finally:
            store.close()


def apply_pending(settings: Settings, store: RecordStore) -> None:
    """Repair a crash between the SQLite commit and the index commit (both directions): the
    Catalog's catch-up (kept for callers of this name)."""
    with Catalog(settings, store) as catalog:
        catalog.catch_up()


class _Run:
    def __init__(self, settings: Settings, store: RecordStore, flag: StopFlag, today: date,
                 progress: Progress, source: SourceFactory) -> None:
        from harvester.ratelimit import RateLimiter

        self.settings = settings
        self.store = store
        self.make_source = source
        self.flag = flag
        self.today = today
        self.progress = progress
        # One limiter for the whole run: every request to NCBI, whatever the topic, counts
        # against the same per-IP budget.
        self.limiter = RateLimiter(settings.rate)
        self.cap = settings.pubmed.max_results_per_query
        self.batch = settings.pubmed.batch_size
        self._win_todo = 0  # records to fetch in the window being committed, and those done
        self._win_done = 0
        self._reached = False  # some esearch of the current topic got an answer
        self.fetcher: WindowFetcher | None = None  # the producer, set for the run (parser)
        self._task: Task | None = None  # the progress line of the window being fetched
        # Every write goes through it; records wait for the index until a batch's worth is
        # queued (one commit per batch_size records keeps Whoosh's segments even).
        self.catalog = Catalog(settings, store, progress=progress, index_batch=self.batch)

    def say(self, msg: str, level: int = logging.INFO) -> None:
        # With progress on a terminal the line is printed here; file_only keeps the log's own
        # stderr handler (harvester/logs.py) from printing it a second time.
        log.log(level, msg, extra={"file_only": True} if self.progress.live else None)
        self.progress.note(msg)

    def _explain_limits(self) -> None:
        """Say once why the run goes at the pace it does, and what NCBI asks of every tool."""
        pubmed = self.settings.pubmed
        if pubmed.requests_per_second is not None:
            why = "(pubmed.requests_per_second)"
        elif pubmed.api_key:
            why = "with an API key"
        else:
            why = "without an API key (NCBI allows 10 with one: set NCBI_API_KEY)"
        self.say(f"rate limit: {self.settings.rate:g} requests/s {why}")
        if not pubmed.email:
            log.warning("pubmed.email is not set: NCBI asks every tool for a contact address so "
                        "it can write to you before blocking one that sends too much; set "
                        "pubmed.email in the config (or KETLIT_EMAIL)")

    def _end_task(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None

    def run(self, topics: list[Topic], *, full: bool, since: date | None) -> HarvestReport:
        from harvester.parse_worker import ParseWorker

        with ParseWorker() as parser, self.catalog:
            self.fetcher = WindowFetcher(self.settings.store_path, self.cap, self.batch, parser,
                                         self._answered)
            # The parse helper has usually analysed the records' text already.
            self.catalog.analysis = parser.analysis
            try:
                return self._run(topics, full=full, since=since)
            finally:
                self.fetcher = None
                self.catalog.analysis = None

    def _answered(self) -> None:
        self._reached = True  # some esearch of the current topic got an answer

    def _run(self, topics: list[Topic], *, full: bool, since: date | None) -> HarvestReport:
        store = self.store
        store.close_stale_runs()
        self.catalog.catch_up()
        previous = store.get_meta("last_harvest_started")
        with store.transaction():
            if previous:
                store.set_meta("previous_harvest_started", previous)
            store.set_meta("last_harvest_started", store.now())
        log.info("harvest started: %s", ", ".join(t.name for t in topics))
        self._explain_limits()
        report = HarvestReport()
        unreachable: str | None = None
        for topic in topics:
            if self.flag.is_set():
                report.interrupted = True
                break
            if unreachable is not None:
                tr = TopicReport(topic.name, "skipped", status="skipped",
                                 error=f"PubMed could not be reached: {unreachable}")
                report.topics.append(tr)
                continue
            tr = self.harvest_topic(topic, full=full, since=since)
            report.topics.append(tr)
            if tr.status == "interrupted":
                report.interrupted = True
                break
            if tr.status == "failed" and not tr.reached_server:
                # Not one esearch of this topic got an answer after every retry: the server is
                # down or unreachable, and the other topics would only wait through the same
                # retries. They are skipped and the run fails with one clear line.
                unreachable = tr.error
        report.stop_reason = self.flag.signal_name
        if unreachable is not None and not any(t.status == "ok" for t in report.topics):
            for t in report.topics:
                if t.status == "skipped":
                    t.status = "failed"
            raise HarvestError(f"harvest failed, PubMed could not be reached: {unreachable}")
        return report

    # -- one topic ---------------------------------------------------------------------------------

    def harvest_topic(self, topic: Topic, *, full: bool, since: date | None) -> TopicReport:
        from harvester.eutils import Interrupted

        store = self.store
        cp = store.checkpoint(topic.name) or {}
        state = cp.get("state") or None
        pending = bool(state and state.get("kind") == "walk" and state.get("query") == topic.query)
        if pending and not (full and state["mode"] != "resync"):
            # An unfinished walk resumes (a killed first harvest, an interrupted --full), unless
            # --full now asks for more than the pending walk does (refetch and reconcile).
            mode = state["mode"]
        elif full:
            mode = "resync"
        elif since is not None:
            mode = "since"
        elif not cp.get("last_date"):
            mode = "full"
        elif cp.get("query") not in (None, topic.query):
            mode = "requery"  # the query changed: walk again and drop what no longer matches
        elif self._reconcile_due(topic):
            mode = "reconcile"  # the nightly pass, then PubMed's id list compared (esearch)
        else:
            mode = "incremental"
        tr = TopicReport(topic.name, mode)
        run_id = store.start_run(topic.name, mode)
        pipe_stop = threading.Event()

        def should_stop() -> bool:
            return self.flag.is_set() or pipe_stop.is_set()

        client = self.make_source(self.settings, self.limiter, should_stop, self.progress)
        self.say(f"{topic.name}: {mode} harvest")
        self._win_todo = self._win_done = 0
        self._reached = False
        try:
            if mode == "reconcile":
                if not pending:  # a resumed reconciliation already had its nightly pass
                    self._incremental(topic, tr, client, pipe_stop, cp, since)
                self._walk(topic, tr, client, pipe_stop, mode, state)
            elif mode in ("full", "resync", "requery"):
                self._walk(topic, tr, client, pipe_stop, mode, state)
            else:
                self._incremental(topic, tr, client, pipe_stop, cp, since)
            tr.status = "ok"
        except (Stopped, Interrupted):
            # Interrupted: the client abandoned a request or a wait because a stop was asked.
            tr.status = "interrupted"
        except KetlitError as exc:
            tr.status, tr.error = "failed", str(exc)
        finally:
            tr.reached_server = tr.reached_server or self._reached
            tr.requests = client.requests_made
            if tr.status == "failed":
                # Records of the window in progress that were not committed.
                tr.failed = max(0, self._win_todo - self._win_done)
            if tr.status in ("ok", "failed", "interrupted"):
                store.finish_run(run_id, tr.status, tr.error, windows=tr.windows,
                                 requests=tr.requests, new=tr.new, updated=tr.updated,
                                 deleted=tr.deleted, failed=tr.failed, missing=tr.missing)
            else:  # an unexpected exception: leave a trace in the run log, then re-raise
                store.finish_run(run_id, "failed", "internal error", windows=tr.windows,
                                 requests=tr.requests, new=tr.new, updated=tr.updated)
        self.say(tr.line(), {"failed": logging.ERROR,
                             "interrupted": logging.WARNING}.get(tr.status, logging.INFO))
        return tr

    def _walk(self, topic: Topic, tr: TopicReport, client: Source, pipe_stop: threading.Event,
              mode: str, state: dict[str, Any] | None) -> None:
        store = self.store
        if (state and state.get("kind") == "walk" and state.get("query") == topic.query
                and state.get("mode") == mode):
            through = date.fromisoformat(state["through"]) if state.get("through") else None
            refetch, reconcile = bool(state["refetch"]), bool(state["reconcile"])
        else:
            through = None
            refetch = mode == "resync"
            reconcile = mode in ("resync", "requery", "reconcile")
            state = {"kind": "walk", "mode": mode, "query": topic.query, "refetch": refetch,
                     "reconcile": reconcile, "through": None, "started": store.now()}
            with store.transaction():
                store.clear_seen(topic.name)
                store.set_checkpoint(topic.name, state=state)
        todo = remaining(full_history(self.today), through)
        self.say(f"{topic.name}: walking create dates {todo or 'nothing left'}"
                 f"{' (refetching every record)' if refetch else ''}")

        def on_window(done: WindowDone) -> None:
            assert state is not None
            state["through"] = done.window.end.isoformat()
            with store.transaction():
                if reconcile:
                    store.add_seen(topic.name, done.ids)
                store.set_checkpoint(topic.name, state=state)

        walk = WindowWalk(todo)
        self._consume(topic, tr, pipe_stop, lambda stop: self._produce(
            topic, client, walk, EDAT, refetch=refetch), on_window)
        if reconcile:
            self._reconcile(topic, tr)
        with store.transaction():
            store.set_checkpoint(topic.name, query=topic.query, last_date=self.today.isoformat(),
                                 last_success=store.now(), clear_state=True)
            store.clear_seen(topic.name)
            # A complete walk has seen PubMed's whole id list for the topic.
            store.set_meta(_RECONCILED + topic.name, self.today.isoformat())

    def _incremental(self, topic: Topic, tr: TopicReport, client: Source,
                     pipe_stop: threading.Event, cp: dict[str, Any], since: date | None) -> None:
        last = date.fromisoformat(cp["last_date"]) if cp.get("last_date") else None
        base = last or self.today
        window = incremental_window(base, self.settings.pubmed.overlap_days, self.today, since)
        self.say(f"{topic.name}: created or modified {window}")
        for datetype in (EDAT, MDAT):
            walk = WindowWalk(window)
            self._consume(topic, tr, pipe_stop,
                          lambda stop, w=walk, d=datetype: self._produce(topic, client, w, d),
                          None)
        # The last completed day only moves when both passes are through: a crash or a failure
        # before this line makes the next run cover the same window again (re-reading is cheap
        # and harmless). A --since run of a topic that never had its first full walk leaves the
        # walk to the next normal run.
        if last is not None or since is None:
            with self.store.transaction():
                self.store.set_checkpoint(topic.name, query=topic.query,
                                          last_date=self.today.isoformat(),
                                          last_success=self.store.now())

    def _produce(self, topic: Topic, client: Source, walk: WindowWalk, datetype: str, *,
                 refetch: bool = False) -> Iterator[Item]:
        """The producer thread's items (harvester/fetch.py: esearch, decide, efetch)."""
        assert self.fetcher is not None, "the fetcher exists inside run()"
        return self.fetcher.produce(topic, client, walk, datetype, refetch=refetch)

    # -- consumer: commit batches in order ---------------------------------------------------------

    def _consume(self, topic: Topic, tr: TopicReport, pipe_stop: threading.Event,
                 produce: Callable[[threading.Event], Iterator[Item]],
                 on_window: Callable[[WindowDone], None] | None) -> None:
        pipe_stop.clear()
        try:
            self._consume_items(topic, tr, pipe_stop, produce, on_window)
        except BaseException:
            self._flush_index(failing=True)
            raise
        finally:
            self._end_task()
        self._flush_index()

    def _consume_items(self, topic: Topic, tr: TopicReport, pipe_stop: threading.Event,
                       produce: Callable[[threading.Event], Iterator[Item]],
                       on_window: Callable[[WindowDone], None] | None) -> None:
        for item in pipelined(produce, pipe_stop, self.flag.is_set):
            tr.reached_server = True
            if isinstance(item, WindowStart):
                self._win_todo, self._win_done = item.to_fetch, 0
                self.say(f"{topic.name}: {item.datetype} {item.window}: "
                         f"{item.to_fetch} record(s) to fetch")
                self._end_task()
                self._task = self.progress.task(f"{topic.name} {item.window}", item.to_fetch)
            elif isinstance(item, Batch):
                self._commit_batch(topic, tr, item.articles)
                self._win_done += len(item.articles)
                if self._task is not None:
                    self._task.advance(len(item.articles))
            elif isinstance(item, Tag):
                self._commit_tags(topic, tr, item.pmids)
            elif isinstance(item, WindowDone):
                tr.windows += 1
                tr.missing.extend(p for p in item.missing if p not in tr.missing)
                if on_window is not None:
                    on_window(item)
            # Between batches is the safe point to honour SIGTERM/SIGINT: the batch just
            # handled is committed (and, for a walk, checkpointed when its window is done).
            if self.flag.is_set():
                raise Stopped

    def _commit_batch(self, topic: Topic, tr: TopicReport, articles: list[Article]) -> None:
        counts = self.catalog.upsert(articles, topic=topic.name, defer=True)
        tr.new += len(counts.new)
        tr.updated += len(counts.updated)

    def _commit_tags(self, topic: Topic, tr: TopicReport, pmids: list[str]) -> None:
        changed = self.catalog.tag(pmids, topic.name, defer=True)
        tr.updated += len(changed)

    def _flush_index(self, *, failing: bool = False) -> None:
        """The records still waiting for the index, written now (Catalog.flush)."""
        self.catalog.flush(failing=failing)

    # -- --full reconciliation -------------------------------------------------------------------

    def _reconcile_due(self, topic: Topic) -> bool:
        """Is the topic's periodic comparison with PubMed's id list due (schedule.reconcile_days
        since the last complete walk)? Deletions and records that stopped matching only show
        up that way: an incremental run sees what was created or modified, not what left."""
        days = self.settings.schedule.reconcile_days
        if days <= 0:
            return False
        last = self.store.get_meta(_RECONCILED + topic.name)
        return last is None or (self.today - date.fromisoformat(last)).days >= days

    def _reconcile(self, topic: Topic, tr: TopicReport) -> None:
        """After a complete walk: records the topic's query no longer matches lose the topic; a
        record left with no topic that was not added by ``ketlit ingest`` is deleted."""
        store = self.store
        gone = sorted(store.pmids(topic.name) - store.seen(topic.name))
        if not gone:
            return
        self.say(f"{topic.name}: {len(gone)} record(s) no longer match the query")
        for start in range(0, len(gone), self.batch):
            # Records left with no topic are deleted, unless `ketlit ingest` added them.
            deleted, retagged = self.catalog.drop_topic(topic.name, gone[start:start + self.batch])
            tr.deleted += len(deleted)
            tr.updated += len(retagged)


_RECONCILED = "last_reconciled:"  # store meta key per topic: the date of the last complete walk
