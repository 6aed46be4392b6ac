"""The Catalog: the one front door for every write (issue 14 point 3, design "Data flow").

A record is written to two places: the record store (SQLite, the source of truth) and the search
index (Whoosh in ``index/whoosh/``, or a SolrCloud collection in ``index/solr/``). The Catalog
owns the order that keeps them in step, so no caller repeats it:

1. the store, in one transaction (records, topics; rows flagged ``indexed=0``);
2. the index, in one writer session and commit (now, or once ``index_batch`` records wait);
3. ``mark_indexed`` (and, for deletions, ``clear_index_deletes``) in the store;
4. the record processors' ``committed`` hook (below).

A crash between any two steps leaves rows the index lacks flagged in the store, and
:meth:`Catalog.catch_up` (run first by every harvest and ingest) applies them. ``reindex``
rebuilds the index from the store and swaps it in.

Per-record steps (record processors): what must be computed for every record written, whatever
wrote it (harvest, ingest, reindex), is a :class:`RecordProcessor` in the list
:func:`default_processors` returns. Evidence annotations are one (:class:`Annotator`); the
embeddings beside the index are another. A processor sees records before they are stored
(``prepare``: fill fields of the Article), after the index committed them (``committed``: side
stores such as embeddings), at reindex (``reindex``: refresh everything, with progress), and
``close`` at the end of the run.

Backends: :class:`WritableIndex` is what the Catalog asks of an index; index/whoosh/writer.py
(``WhooshWritableIndex``) and index/solr/backend.py (``SolrWritableIndex``) implement it, and
:func:`writable_index` picks one from ``index.backend``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from index.article import Article
from index.errors import KetlitError
from index.locks import file_lock
from index.progress import NullProgress, Progress, as_progress
from index.settings import Settings
from index.store import ORIGIN_HARVEST, RecordStore, UpsertCounts

log = logging.getLogger("ketlit.catalog")

# Where to find an article's text already analysed (the harvest's parse helper does it on the
# other core); an answer of None means "analyse it here". The value is backend-specific
# (index.whoosh.schema.Analysis): the Catalog only passes it through.
AnalysisLookup = Callable[[Article], object | None]

SYNC_BATCH = 1000  # records per index commit when catching up
_REBUILD_LOCK_NAME = "reindex.lock"


# -- what the Catalog asks of an index backend --------------------------------------------------


class IndexSession(Protocol):
    """Upserts and deletes inside one writer; committed when the session's block ends cleanly,
    dropped when it raises."""

    upserted: int
    deleted: int

    def upsert(self, articles: Iterable[Article], analysis: AnalysisLookup | None = None) -> None:
        """Add or replace each article (keyed on its PMID: repeating one never duplicates it)."""
        ...

    def delete(self, pmids: Iterable[str]) -> None: ...


class WritableIndex(Protocol):
    """An index the Catalog writes: Whoosh's directory or a Solr collection."""

    def check_writable(self) -> None:
        """Raise (IndexMissingError naming ``ketlit reindex``, IndexUnavailableError) when a
        write would fail; no index at all is fine (the first session creates it)."""
        ...

    def session(self, timeout: float = 60) -> contextlib.AbstractContextManager[IndexSession]:
        """One writer at a time (others wait up to ``timeout`` s, then LockedError)."""
        ...

    def rebuild(self, store: RecordStore, progress: Progress) -> int:
        """Build a fresh index from every stored record and swap it in atomically, applying what
        the store changed meanwhile; flags the records indexed. Returns how many it holds."""
        ...


def writable_index(settings: Settings) -> WritableIndex:
    """The backend ``index.backend`` names."""
    if settings.index.backend == "solr":
        from index.solr.backend import SolrWritableIndex

        return SolrWritableIndex(settings)
    from index.whoosh.writer import WhooshWritableIndex

    return WhooshWritableIndex(settings)


# -- per-record steps ---------------------------------------------------------------------------


class RecordProcessor:
    """A per-record step of every write. Subclasses override the hooks they need; each default
    does nothing. Hooks run in the writing process, in the order of the processor list."""

    name = "processor"

    def prepare(self, articles: Sequence[Article]) -> None:
        """Before the store writes ``articles`` (harvested or ingested): fill Article fields
        (they are stored and indexed with the record)."""

    def committed(self, upserted: Sequence[Article], deleted: Sequence[str]) -> None:
        """After the index committed ``upserted`` (as stored: merged topics, newest copy) and
        dropped ``deleted``. A failure here propagates; the records stay stored and indexed."""

    def reindex(self, store: RecordStore, progress: Progress) -> None:
        """At ``ketlit reindex``, before the index is rebuilt: bring every stored record up to
        date (rules or models may have changed since it was stored)."""

    def close(self) -> None:
        """The write run is over (save what was buffered)."""


class Annotator(RecordProcessor):
    """Evidence annotations (index/annotations): computed before a record is stored (the harvest's
    parse helper computes them on its own core; whatever arrives without is annotated here), and
    recomputed for every stored record at reindex, where the rules may have changed."""

    name = "annotations"

    def prepare(self, articles: Sequence[Article]) -> None:
        from index.annotations import annotate

        for art in articles:
            if art.annotations is None:
                art.annotations = annotate(art)

    def reindex(self, store: RecordStore, progress: Progress) -> None:
        store.refresh_annotations()


def _annotator(_settings: Settings, _progress: Progress) -> RecordProcessor:
    return Annotator()


# Factories of the processors every Catalog runs, in order: (settings, progress) -> a processor,
# or None when it does not apply (say, embeddings without the optional model installed). Add a
# per-record step by adding its factory here (import lazily inside the factory).
ProcessorFactory = Callable[[Settings, Progress], RecordProcessor | None]
def _embeddings(settings: Settings, progress: Progress) -> RecordProcessor | None:
    # Sentence embeddings beside the index (issue 15): None without the semantic extra or with
    # index.embeddings false, so ketlit then writes exactly as before.
    from index.embeddings.processor import embedding_processor

    return embedding_processor(settings, progress)


PROCESSORS: tuple[ProcessorFactory, ...] = (_annotator, _embeddings)


def default_processors(settings: Settings, progress: Progress | None = None) -> list[RecordProcessor]:
    made = (factory(settings, progress or NullProgress()) for factory in PROCESSORS)
    return [p for p in made if p is not None]


# -- the Catalog --------------------------------------------------------------------------------


class Catalog:
    """Every write to the store and the index, as one operation each.

    ``store``: the caller's open RecordStore (the caller holds the harvest lock when it has to);
    ``index``: the backend (default: :func:`writable_index`); ``processors``: the per-record steps
    (default: :func:`default_processors`); ``index_batch``: with ``defer=True`` writes, records
    wait for the index until this many are queued (one commit per batch keeps segments even);
    ``analysis``: where the index writer finds text already analysed.
    """

    def __init__(self, settings: Settings, store: RecordStore, *,
                 index: WritableIndex | None = None,
                 processors: Sequence[RecordProcessor] | None = None,
                 progress: Progress | None = None, index_batch: int = SYNC_BATCH,
                 analysis: AnalysisLookup | None = None) -> None:
        self.settings = settings
        self.store = store
        self.index = index if index is not None else writable_index(settings)
        self.progress = progress or NullProgress()
        self.processors = list(processors if processors is not None
                               else default_processors(settings, self.progress))
        self.index_batch = max(1, index_batch)
        self.analysis = analysis
        self._queued: dict[str, Article] = {}  # stored, waiting for the next index commit

    # -- checks and repairs ----------------------------------------------------------------------

    def check_writable(self) -> None:
        self.index.check_writable()

    def catch_up(self, batch: int = SYNC_BATCH) -> int:
        """Apply what the store has and the index lacks (a crash between the two commits, in
        either direction): deletions first, then every row flagged unindexed. Returns how many
        rows were indexed."""
        store = self.store
        gone = store.pending_index_deletes()
        if gone:
            with self.index.session() as session:
                session.delete(gone)
            store.clear_index_deletes(gone)
            self._committed([], gone)
        pending = store.pending_index()
        done = 0
        for i in range(0, len(pending), batch):
            chunk = pending[i:i + batch]
            articles = store.get_many(chunk)
            present = [articles[p] for p in chunk if p in articles]
            missing = [p for p in chunk if p not in articles]
            with self.index.session() as session:
                session.upsert(present)
                if missing:
                    session.delete(missing)
            store.mark_indexed(chunk)
            self._committed(present, missing)
            done += len(chunk)
        return done

    # -- upserts ---------------------------------------------------------------------------------

    def upsert(self, articles: list[Article], *, topic: str | None = None,
               origin: str = ORIGIN_HARVEST, extra_topics: Iterable[str] = (),
               defer: bool = False) -> UpsertCounts:
        """Store ``articles`` (merging topics with the stored copies; an older copy never replaces
        a newer one) and index the new and changed ones: now, or with ``defer`` once
        ``index_batch`` records wait (call :meth:`flush` at the end of the pass)."""
        for p in self.processors:
            p.prepare(articles)
        with self.store.transaction():
            counts = self.store.upsert(articles, topic=topic, origin=origin,
                                       extra_topics=extra_topics)
        changed = set(counts.new) | set(counts.updated)
        self._queue([a for a in articles if a.pmid in changed], defer)
        return counts

    def tag(self, pmids: Iterable[str], topic: str, *, defer: bool = False) -> list[Article]:
        """Add ``topic`` to stored records without fetching them again; returns the changed
        ones (queued for the index like :meth:`upsert`'s)."""
        with self.store.transaction():
            changed = self.store.add_topic(pmids, topic)
        self._queue(changed, defer)
        return changed

    @property
    def queued(self) -> int:
        return len(self._queued)

    def _queue(self, articles: list[Article], defer: bool) -> None:
        for a in articles:
            self._queued[a.pmid] = a  # a later copy of the same record replaces the earlier
        if not defer:
            self.flush()
            return
        # Exactly index_batch records per commit, the rest waiting for the next: a commit of 766
        # (a window's last 266 and the next window's first 500) made a segment that the merge
        # policy never fitted beside the 500s, and left over it brought merges on early.
        while len(self._queued) >= self.index_batch:
            self.flush(limit=self.index_batch)

    def flush(self, *, limit: int | None = None, failing: bool = False) -> None:
        """Index the queued records (the first ``limit`` of them, or all) in one commit, then
        flag them indexed.

        ``failing``: the caller is ending on an error or a stop. The records are in the store
        already; if the index cannot take them now either (say it is the index that failed), a
        warning says so and they stay flagged unindexed, which the next run applies first."""
        if limit is None or limit >= len(self._queued):
            articles = list(self._queued.values())
            self._queued.clear()
        else:
            articles = [self._queued.pop(p) for p in list(self._queued)[:limit]]
        if not articles:
            return
        try:
            with self.index.session() as session:
                session.upsert(articles, self.analysis)
            with self.store.transaction():
                self.store.mark_indexed(a.pmid for a in articles)
        except (KetlitError, OSError) as exc:
            if not failing:
                raise
            log.warning("%d stored record(s) are not in the index yet (%s); the next harvest "
                        "indexes them first", len(articles), exc)
            return
        self._committed(articles, [])

    # -- deletes ---------------------------------------------------------------------------------

    def delete(self, pmids: list[str]) -> list[str]:
        """Remove records from the store and the index; returns those the store had. The store
        remembers the deletion until the index committed it (a crash in between is replayed by
        :meth:`catch_up`)."""
        if not pmids:
            return []
        with self.store.transaction():
            gone = self.store.delete_for_index(pmids)
        with self.index.session() as session:
            session.delete(pmids)
        with self.store.transaction():
            self.store.clear_index_deletes(pmids)
        self._committed([], pmids)
        return gone

    def drop_topic(self, topic: str, pmids: list[str], *,
                   keep: Callable[[str, set[str], tuple[bool, bool]], bool] | None = None,
                   ) -> tuple[list[str], list[Article]]:
        """``topic``'s query no longer matches ``pmids``: they lose the topic, and a record left
        with no topic is deleted unless ``keep(pmid, topics_left, (harvested, ingested))`` says
        otherwise (default: keep what ``ketlit ingest`` added). The store's changes and the
        departures (for the digest) commit together, then the index in one session. Returns
        (deleted PMIDs, retagged Articles)."""
        def keep_ingested(_pmid: str, left: set[str], origin: tuple[bool, bool]) -> bool:
            return bool(left) or origin[1]

        keeps = keep or keep_ingested
        store = self.store
        retagged: list[Article] = []
        with store.transaction():
            drop: list[str] = []
            for pmid, art in store.get_many(pmids).items():
                left = art.topics - {topic}
                if not keeps(pmid, left, store.origin(pmid) or (True, False)):
                    drop.append(pmid)
                else:
                    updated = store.set_topics(pmid, left)
                    if updated is not None:
                        retagged.append(updated)
            deleted = store.delete_for_index(drop)
            store.note_left(topic, pmids)
        with self.index.session() as session:
            if deleted:
                session.delete(deleted)
            if retagged:
                session.upsert(retagged)
        with store.transaction():
            store.clear_index_deletes(drop)
            store.mark_indexed(a.pmid for a in retagged)
        self._committed(retagged, deleted)
        return deleted, retagged

    # -- rebuild -------------------------------------------------------------------------------

    def reindex(self) -> int:
        """Rebuild the index from the store and swap it in (see :func:`reindex`). The caller
        holds no index writer; harvests may go on meanwhile."""
        self.store.check()  # a damaged store stops the rebuild before it replaces a good index
        for p in self.processors:
            p.reindex(self.store, self.progress)
        n = self.index.rebuild(self.store, self.progress)
        return n

    # -- the end ---------------------------------------------------------------------------------

    def _committed(self, upserted: Sequence[Article], deleted: Sequence[str]) -> None:
        for p in self.processors:
            p.committed(upserted, deleted)

    def close(self) -> None:
        """End of the write run: the processors save what they buffered (queued index writes
        are the caller's to flush first)."""
        for p in self.processors:
            p.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def open_catalog(settings: Settings, *, progress: Progress | None = None,
                 index_batch: int = SYNC_BATCH) -> Iterator[Catalog]:
    """A Catalog over its own store connection (closed after)."""
    store = RecordStore(settings.store_path)
    try:
        with Catalog(settings, store, progress=progress, index_batch=index_batch) as catalog:
            yield catalog
    finally:
        store.close()


def reindex(settings: Settings, progress: Progress | bool | None = None) -> int:
    """``ketlit reindex``: the processors bring every stored record up to date, then the index
    is rebuilt from the store into a fresh directory (or collection) and swapped in atomically.
    One reindex at a time; harvests may go on meanwhile (records the store changed after the
    rebuild started are applied again under the writer lock just before the swap)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(settings.data_dir / _REBUILD_LOCK_NAME, 0,
                   "another `ketlit reindex` is already running"), \
            open_catalog(settings, progress=as_progress(progress)) as catalog:
        return catalog.reindex()
