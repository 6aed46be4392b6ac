"""Index writer: idempotent upserts, one writer at a time, catch-up, rebuild + atomic swap,
missing/corrupt/outdated index detection."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index.article import Article
from index.errors import IndexMissingError, LockedError
from index.settings import Settings, settings_from_mapping
from index.store import RecordStore
from index.whoosh.writer import (
    VERSION_FILE,
    check_index,
    live_index_dir,
    open_index,
    open_index_writer,
    rebuild_index,
    sync_pending,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_mapping({"data_dir": str(tmp_path / "data")}, tmp_path)


def arts(*pmids: str, title: str = "ketamine trial") -> list[Article]:
    return [Article(pmid=p, title=f"{title} {p}", pub_year=2020) for p in pmids]


def indexed_pmids(settings: Settings) -> list[str]:
    ix = open_index(settings)
    try:
        with ix.searcher() as s:
            return sorted(d["pmid"] for d in s.all_stored_fields())
    finally:
        ix.close()


def test_writer_creates_the_index_behind_a_symlink(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1", "2"))
    assert settings.index_dir.is_symlink()
    assert live_index_dir(settings) is not None
    check_index(settings)
    assert indexed_pmids(settings) == ["1", "2"]


def test_upsert_is_idempotent(settings: Settings) -> None:
    for _ in range(3):
        with open_index_writer(settings) as w:
            w.upsert(arts("1", "2"))
    with open_index_writer(settings) as w:
        w.upsert(arts("2", title="changed"))
    assert indexed_pmids(settings) == ["1", "2"]
    ix = open_index(settings)
    with ix.searcher() as s:
        assert s.doc_count() == 2
    ix.close()


def test_exception_cancels_the_batch(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1"))
    with pytest.raises(RuntimeError), open_index_writer(settings) as w:
        w.upsert(arts("2"))
        raise RuntimeError("harvest died")
    assert indexed_pmids(settings) == ["1"]
    # and the lock was released
    with open_index_writer(settings, timeout=1) as w:
        w.delete(["1"])
    assert indexed_pmids(settings) == []


def test_second_writer_waits_then_fails_with_locked_error(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1"))
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with open_index_writer(settings) as w2:
            w2.upsert(arts("2"))
            entered.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert entered.wait(10)
    start = time.monotonic()
    with pytest.raises(LockedError, match="being written"), open_index_writer(settings, timeout=0.3):
        pass
    assert time.monotonic() - start >= 0.25
    release.set()
    t.join(10)
    # After release a waiting writer gets in.
    with open_index_writer(settings, timeout=5) as w:
        w.upsert(arts("3"))
    assert indexed_pmids(settings) == ["1", "2", "3"]


def test_sync_pending_indexes_rows_the_index_lacks(settings: Settings) -> None:
    store = RecordStore(settings.store_path)
    store.upsert(arts("1", "2", "3"))
    assert len(store.pending_index()) == 3
    assert sync_pending(settings, store) == 3
    assert store.pending_index() == []
    assert indexed_pmids(settings) == ["1", "2", "3"]
    assert sync_pending(settings, store) == 0
    store.close()


def test_rebuild_swaps_atomically_and_old_readers_keep_their_snapshot(settings: Settings) -> None:
    store = RecordStore(settings.store_path)
    store.upsert(arts("1", "2"))
    sync_pending(settings, store)
    old_dir = live_index_dir(settings)
    reader_ix = open_index(settings)
    old_searcher = reader_ix.searcher()
    store.upsert(arts("3"))  # in the store only
    store.delete(["1"])
    store.close()

    n = rebuild_index(settings)
    assert n == 2
    new_dir = live_index_dir(settings)
    assert new_dir != old_dir and not old_dir.exists()
    assert indexed_pmids(settings) == ["2", "3"]
    # The reader opened before the swap still sees its snapshot.
    assert sorted(d["pmid"] for d in old_searcher.all_stored_fields()) == ["1", "2"]
    old_searcher.close()
    reader_ix.close()
    assert [p.name for p in settings.data_dir.glob("index-*")] == [new_dir.name]
    store = RecordStore(settings.store_path)
    assert store.pending_index() == []
    store.close()


def test_rebuild_of_an_empty_store_gives_an_empty_index(settings: Settings) -> None:
    RecordStore(settings.store_path).close()
    assert rebuild_index(settings) == 0
    assert indexed_pmids(settings) == []


def test_check_index_missing_with_and_without_records(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match=r"ketlit harvest.*ketlit ingest"):
        check_index(settings)
    store = RecordStore(settings.store_path)
    store.upsert(arts("1"))
    store.close()
    with pytest.raises(IndexMissingError, match="ketlit reindex"):
        check_index(settings)
    rebuild_index(settings)
    check_index(settings)


def test_check_index_outdated_schema(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1"))
    (live_index_dir(settings) / VERSION_FILE).write_text("0\n")
    with pytest.raises(IndexMissingError, match=r"schema version 0.*ketlit reindex"):
        check_index(settings)
    with pytest.raises(IndexMissingError, match="ketlit reindex"), open_index_writer(settings):
        pass


def test_check_index_corrupt(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1", "2"))
    directory = live_index_dir(settings)
    for f in directory.iterdir():
        if f.suffix in (".seg", ".toc"):
            f.write_bytes(b"\x00garbage" * 3)
    with pytest.raises(IndexMissingError, match=r"cannot be read.*ketlit reindex"):
        check_index(settings)


def test_searches_never_see_half_a_batch_while_a_writer_commits(settings: Settings) -> None:
    """Batches of 50 records are committed in a loop while readers count documents: every count
    a reader sees is a whole number of batches."""
    with open_index_writer(settings) as w:
        w.upsert(arts(*[f"0-{i}" for i in range(50)]))
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for b in range(1, 12):
                with open_index_writer(settings) as w:
                    w.upsert(arts(*[f"{b}-{i}" for i in range(50)]))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            stop.set()

    seen: list[int] = []
    t = threading.Thread(target=write)
    t.start()
    while not stop.is_set():
        ix = open_index(settings)
        with ix.searcher() as s:
            seen.append(s.doc_count())
        ix.close()
    t.join()
    assert not errors
    assert seen and all(n % 50 == 0 for n in seen), seen
    assert len(indexed_pmids(settings)) == 600


def test_whoosh_lock_is_not_left_behind(settings: Settings) -> None:
    with open_index_writer(settings) as w:
        w.upsert(arts("1"))
    ix = whoosh_index.open_dir(str(live_index_dir(settings)))
    lock = ix.lock("WRITELOCK")
    assert lock.acquire(False)  # free: the session released Whoosh's own lock too
    lock.release()
    ix.close()
    assert os.path.exists(settings.data_dir / "index.lock")


def test_rebuild_splits_a_large_store_into_segments(settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The term pool is bounded: a new segment each time it holds DEFAULT_POOL_POSTINGS.
    from index.whoosh import bulkwriter

    monkeypatch.setattr(bulkwriter, "DEFAULT_POOL_POSTINGS", 40)
    store = RecordStore(settings.store_path)
    store.upsert(arts(*[str(i) for i in range(1, 31)]), origin="ingest")
    store.close()
    assert rebuild_index(settings) == 30
    ix = open_index(settings)
    try:
        with ix.searcher() as s:
            assert len(s.reader().leaf_readers()) > 1
            assert s.doc_count() == 30
        assert indexed_pmids(settings) == sorted(str(i) for i in range(1, 31))
    finally:
        ix.close()


def test_upserts_into_an_index_of_plain_text_fields(settings: Settings) -> None:
    # An index written before AnalysedText (same schema version) gets strings, not postings.
    from whoosh import fields

    from index.whoosh.schema import SCHEMA_VERSION, build_schema

    schema = build_schema()
    for name in ("title", "abstract", "mesh", "keywords", "text", "author", "journal"):
        analyzer = schema[name].analyzer
        schema.remove(name)
        schema.add(name, fields.TEXT(analyzer=analyzer, phrase=True))
    directory = settings.data_dir / "index-old"
    directory.mkdir(parents=True)
    whoosh_index.create_in(str(directory), schema)
    (directory / VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n", encoding="ascii")
    os.symlink(directory.name, settings.index_dir)
    with open_index_writer(settings) as w:
        w.upsert(arts("1", "2", title="esketamine nasal spray"))
    ix = open_index(settings)
    try:
        with ix.searcher() as s:
            assert s.doc_frequency("text", "esketamin") == 2
            assert s.doc_frequency("title", "spray") == 2
    finally:
        ix.close()


def test_rebuild_catches_up_with_changes_made_while_it_ran(settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordStore(settings.store_path)
    store.upsert(arts("1", "2", "3"))
    store.close()
    original = RecordStore.iter_articles

    def iter_then_harvest(self: RecordStore, *args: object, **kwargs: object):
        yield from original(self, *args, **kwargs)
        # A harvest commits while the rebuild is writing its segments.
        other = RecordStore(settings.store_path)
        other.upsert(arts("9", title="esketamine"))
        other.delete(["2"])
        other.close()

    monkeypatch.setattr(RecordStore, "iter_articles", iter_then_harvest)
    rebuild_index(settings)
    assert indexed_pmids(settings) == ["1", "3", "9"]


def test_harvest_commits_merge_segments_but_never_above_the_cap(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # A merge pools every posting of the merged segments in memory: bounding the merged size is
    # what keeps a harvest's peak memory flat as the index grows.
    from index.whoosh import writer as index_writer

    monkeypatch.setattr(index_writer, "MAX_MERGED_DOCS", 20)
    monkeypatch.setattr(index_writer, "MERGE_FACTOR", 4)
    sizes: list[list[int]] = []
    for batch in range(30):
        with open_index_writer(settings) as w:
            w.upsert(arts(*[str(batch * 3 + i) for i in range(1, 4)]))
            if batch % 5 == 4:  # a revision: the old copy is deleted in its segment
                w.upsert(arts(str(batch * 3 - 5), title="revised"))
        ix = open_index(settings)
        try:
            sizes.append([seg.doc_count_all() for seg in ix._segments()])
        finally:
            ix.close()
    assert all(n <= 20 for seg_sizes in sizes for n in seg_sizes), str(sizes)
    assert len(sizes[-1]) < 4 + 90 // 20 + 1, sizes[-1]  # merges happened
    assert max(n for seg_sizes in sizes for n in seg_sizes) > 3  # ... and they did merge
    assert indexed_pmids(settings) == sorted(str(i) for i in range(1, 91))


def test_index_writes_pause_the_garbage_collector_and_restore_it(settings: Settings) -> None:
    assert gc.isenabled()
    with open_index_writer(settings) as w:
        assert not gc.isenabled()
        w.upsert(arts("1"))
    assert gc.isenabled()
    with pytest.raises(RuntimeError), open_index_writer(settings):
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with open_index_writer(settings) as w:
            w.upsert(arts("2"))
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
    assert indexed_pmids(settings) == ["1", "2"]
