"""The Whoosh backend's write side: sessions of upserts and deletes, rebuild + swap.

What writes and in which order (store, index, flags) is the Catalog's (index/catalog.py);
this module is its ``WritableIndex`` for Whoosh and never reads the store's tables itself.

Layout under data_dir::

    index -> index-20260101T020000-1a2b   (a relative symlink: the live index)
    index-20260101T020000-1a2b/           (a Whoosh index + KETLIT_SCHEMA version marker)
    index.lock                            (fcntl lock: one index writer at a time)

Why a symlink: a rebuilt index is swapped in with one ``os.replace`` of the link, so a reader
sees either the old index or the new one, never a half-built one, and a reader that already
opened the old directory keeps its snapshot (its files stay readable until it closes them).

Why our own lock (index/locks.py): Whoosh's writer lock lives inside the index directory, which
a rebuild replaces. ``index.lock`` lives beside the link, and a writer re-resolves the link after
acquiring it.
"""

from __future__ import annotations

import contextlib
import gc
import shutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from whoosh.writing import IndexWriter

from index.article import Article
from index.locks import writer_lock
from index.progress import Progress, as_progress
from index.settings import Settings
from index.store import RecordStore
from index.whoosh import bulkwriter
from index.whoosh.index_dir import (
    VERSION_FILE,
    check_index,
    check_version,
    create_empty_index,
    index_schema_version,
    live_index_dir,
    new_index_dir,
    open_dir,
    open_index,
    point_link_at,
    remove_stale_dirs,
)
from index.whoosh.schema import (
    Analysis,
    accepts_analysed,
    article_to_document,
)

# The index's location and opening live in index_dir.py; these names are re-exported for callers
# that import them from here.
__all__ = ["VERSION_FILE", "IndexSession", "WhooshWritableIndex", "bounded_merge", "check_index",
           "check_index_writable", "collector_paused", "index_schema_version", "live_index_dir",
           "open_index", "open_index_writer", "rebuild_index", "store_now", "sync_pending"]


def _writer(ix: Any, **kwargs: Any) -> IndexWriter:
    """Whoosh's segment writer, with postings pooled by term (index.whoosh.bulkwriter) when the
    schema allows it: same files, a fraction of the time."""
    if bulkwriter.supports(ix.schema):
        return bulkwriter.TermPoolWriter(ix, **kwargs)
    return ix.writer(**kwargs)



# A merge never makes a segment of more than this many records. Merging pools every posting of
# the merged segments in memory (index/whoosh/bulkwriter.py), about 45 KB per record as Python objects,
# and Whoosh's MERGE_SMALL keeps merging the largest segment with the small ones, so a harvest's
# peak memory grew with the index (600 MB at 20,000 records and rising). 5,000 records bound a
# merge to ~250 MB; a 100,000-record index then has ~20 segments (reindex writes ~7).
MAX_MERGED_DOCS = 5_000

# Merge when this many segments lie below MAX_MERGED_DOCS: a commit per harvest batch makes a
# segment each, and every segment is one more term lookup per query term.
MERGE_FACTOR = 10


def bounded_merge(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy: once MERGE_FACTOR segments are small (under half of
    MAX_MERGED_DOCS), merge the smallest of them, as many as fit in one segment of
    MAX_MERGED_DOCS; larger segments stay as they are (`ketlit reindex` rewrites everything when
    wanted). Returns the segments kept unchanged.

    "Half" keeps a merged segment from being merged again and again as it creeps towards the
    cap (harvest batches cut short at date-window ends made such segments, and a 10,000-record
    harvest merged twice as many records as Whoosh alone on the same documents). An index of N
    records so ends with about N / MAX_MERGED_DOCS * 2 large segments at most plus fewer than
    MERGE_FACTOR small ones, and the memory of a commit does not depend on N."""
    from whoosh.reading import SegmentReader

    small = sorted((s for s in segments if s.doc_count_all() < MAX_MERGED_DOCS // 2),
                   key=lambda s: s.doc_count_all())
    if len(small) < MERGE_FACTOR:
        return segments
    chosen: list[Any] = []
    total = writer.docnum  # the commit's own new documents go into the same segment
    for seg in small:
        if total + seg.doc_count_all() > MAX_MERGED_DOCS:
            break
        chosen.append(seg)
        total += seg.doc_count_all()
    if len(chosen) < 2:
        return segments
    for seg in chosen:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    ids = {id(s) for s in chosen}
    return [s for s in segments if id(s) not in ids]


class IndexSession:
    """Upserts and deletes inside one Whoosh writer; committed when the session ends cleanly."""

    def __init__(self, writer: IndexWriter) -> None:
        self._writer = writer
        self._analysed = accepts_analysed(writer.schema)
        self.upserted = 0
        self.deleted = 0

    def upsert(self, articles: Iterable[Article],
               analysis: Callable[[Article], Analysis | None] | None = None) -> None:
        """``analysis``: where to look for an article's text already analysed (the harvest's
        parse helper does it on the other core); None, or an answer of None, analyses here."""
        # update_document on the unique pmid field: re-adding a record replaces it, so repeating a
        # batch (after a crash, or the harvest overlap) never duplicates it.
        for article in articles:
            done = analysis(article) if analysis is not None and self._analysed else None
            self._writer.update_document(**article_to_document(article, self._analysed, done))
            self.upserted += 1

    def delete(self, pmids: Iterable[str]) -> None:
        for pmid in pmids:
            self.deleted += self._writer.delete_by_term("pmid", pmid)


def check_index_writable(settings: Settings) -> None:
    """The Catalog's check for the configured backend (kept for callers of this name)."""
    from index.catalog import writable_index

    writable_index(settings).check_writable()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (back on after, if it was on).

    Why: a writer's term pool is hundreds of thousands of lists (a list per distinct term,
    index/whoosh/bulkwriter.py), and every collection of the oldest generation walks all of them.
    Collections are triggered by allocation counts, so in a harvest the fetch thread's
    allocations (the parsed batches arriving) set them off in the middle of commits: on the
    10,000-record bench, garbage collection took 3.0 s of a 37 s harvest and 1.6 s of Whoosh
    alone; paused during index writes, 0.6 s and 0.5 s. What a writer drops is freed by
    reference counting (postings are lists of numbers and bytes); anything cyclic waits until
    the collector is back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def open_index_writer(settings: Settings, timeout: float = 60) -> Iterator[IndexSession]:
    """A Whoosh writer session: one writer at a time (others wait up to ``timeout`` s); creates
    the index when missing; committed when the block ends cleanly, cancelled when it raises."""
    with writer_lock(settings, timeout):
        directory = live_index_dir(settings)
        if directory is None:
            directory = new_index_dir(settings)
            create_empty_index(directory)
            point_link_at(settings, directory)
        else:
            check_version(settings, directory)
        ix = open_dir(directory)
        writer = _writer(ix, timeout=timeout)
        session = IndexSession(writer)
        try:
            with collector_paused():
                try:
                    yield session
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(mergetype=bounded_merge)
        finally:
            ix.close()


def sync_pending(settings: Settings, store: RecordStore, batch: int = 1000) -> int:
    """The Catalog's catch-up (kept for callers of this name): index every stored row flagged
    unindexed, and replay deletions the index has not committed."""
    from index.catalog import Catalog

    return Catalog(settings, store, processors=[]).catch_up(batch)


def rebuild_index(settings: Settings, progress: Progress | bool | None = None) -> int:
    """``ketlit reindex`` through the Catalog (kept for callers of this name)."""
    from index.catalog import reindex

    return reindex(settings, progress)


class WhooshWritableIndex:
    """The Catalog's view of the Whoosh index (index.catalog.WritableIndex)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check_writable(self) -> None:
        """An index of another schema version (after an upgrade) would fail every commit: say
        so, naming ``ketlit reindex``. No index at all is fine: the first writer creates it."""
        directory = live_index_dir(self.settings)
        if directory is not None:
            check_version(self.settings, directory)

    def session(self, timeout: float = 60) -> contextlib.AbstractContextManager[IndexSession]:
        return open_index_writer(self.settings, timeout)

    def rebuild(self, store: RecordStore, progress: Progress) -> int:
        """Rebuild from the store into a fresh directory and swap it in atomically. Harvests may
        go on meanwhile: records the store changed after the rebuild started are applied again
        under the writer lock just before the swap, and records it deleted are dropped."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return _rebuild(self.settings, store, as_progress(progress))


def _rebuild(settings: Settings, store: RecordStore, progress: Progress) -> int:
    remove_stale_dirs(settings, keep=live_index_dir(settings))
    started = store.rebuild_started()
    total = store.count()
    new_dir = new_index_dir(settings)
    try:
        create_empty_index(new_dir)
        ix = open_dir(new_dir)
        indexed: list[str] = []
        try:
            writer = _writer(ix)
            task = progress.task("reindex", total)
            try:
                for article in store.iter_articles():
                    writer.add_document(**article_to_document(article, analysed=True))
                    indexed.append(article.pmid)
                    if getattr(writer, "pooled", 0) >= bulkwriter.DEFAULT_POOL_POSTINGS:
                        # Memory stays bounded: a segment per ~17,000 records, never merged
                        # (merging would rewrite every posting again; search reads all segments).
                        writer.commit(merge=False)
                        writer = _writer(ix)
                    task.advance()
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                raise
            finally:
                task.close()
            with writer_lock(settings, 600,
                             "reindex: the index stayed locked by a harvest for 10 minutes; "
                             "run `ketlit reindex` again when it has finished"):
                _catch_up(ix, store, started, indexed)
                point_link_at(settings, new_dir)
                old = [p for p in settings.data_dir.glob("index-*") if p != new_dir]
        finally:
            ix.close()
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    store.mark_indexed(indexed)
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return len(set(indexed))


def _catch_up(ix: Any, store: RecordStore, started: str, indexed: list[str]) -> None:
    changed = store.changed_since(started)
    # What the new index holds is what the rebuild added: opening a reader to list it would copy
    # every compound segment file into memory (Whoosh reads compound files into buffers), about
    # the index's size again at the end of a large reindex.
    gone = set(indexed) - store.pmids()
    if not changed and not gone:
        return
    writer = _writer(ix)
    try:
        arts = store.get_many(changed)
        for pmid in changed:
            if pmid in arts:
                writer.update_document(**article_to_document(arts[pmid], analysed=True))
                indexed.append(pmid)
        for pmid in gone:
            writer.delete_by_term("pmid", pmid)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=bounded_merge)


def store_now(store: RecordStore) -> str:
    """Kept for callers of this name: RecordStore.rebuild_started."""
    return store.rebuild_started()
