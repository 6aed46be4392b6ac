"""The Catalog: every write to the store and the index as one operation, with processors."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from index.article import Article
from index.catalog import Annotator, Catalog, RecordProcessor, reindex, writable_index
from index.errors import IndexUnavailableError
from index.progress import NullProgress, Progress
from index.settings import Settings, settings_from_mapping
from index.store import ORIGIN_INGEST, RecordStore
from tests.helpers import REPO


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_from_mapping({"data_dir": str(tmp_path / "data")}, tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[RecordStore]:
    s = RecordStore(settings.store_path)
    yield s
    s.close()


def arts(*pmids: str, title: str = "ketamine trial") -> list[Article]:
    return [Article(pmid=p, title=f"{title} {p}", pub_year=2020) for p in pmids]


class FakeSession:
    def __init__(self, index: FakeIndex) -> None:
        self.index = index
        self.upserted = 0
        self.deleted = 0
        self.docs: dict[str, Article] = {}
        self.gone: list[str] = []

    def upsert(self, articles: Iterable[Article], analysis: object = None) -> None:
        for a in articles:
            self.docs[a.pmid] = a
            self.upserted += 1

    def delete(self, pmids: Iterable[str]) -> None:
        for p in pmids:
            self.gone.append(p)
            self.deleted += 1


class FakeIndex:
    """An index in memory that can be told to fail its next commits."""

    def __init__(self) -> None:
        self.docs: dict[str, Article] = {}
        self.commits: list[int] = []
        self.fail = False
        self.rebuilt = 0

    def check_writable(self) -> None:
        pass

    @contextlib.contextmanager
    def session(self, timeout: float = 60) -> Iterator[FakeSession]:
        s = FakeSession(self)
        yield s
        if self.fail:
            raise IndexUnavailableError("the index node is down")
        self.docs.update(s.docs)
        for p in s.gone:
            self.docs.pop(p, None)
        self.commits.append(len(s.docs) + len(s.gone))

    def rebuild(self, store: RecordStore, progress: Progress) -> int:
        self.rebuilt += 1
        self.docs = {a.pmid: a for a in store.iter_articles()}
        store.mark_indexed(self.docs)
        return len(self.docs)


class Recorder(RecordProcessor):
    name = "recorder"

    def __init__(self) -> None:
        self.events: list[tuple[str, list[str]]] = []

    def prepare(self, articles: Sequence[Article]) -> None:
        self.events.append(("prepare", [a.pmid for a in articles]))
        for a in articles:
            a.keywords = [*a.keywords, "prepared"]

    def committed(self, upserted: Sequence[Article], deleted: Sequence[str]) -> None:
        self.events.append(("committed", [a.pmid for a in upserted] + [f"-{p}" for p in deleted]))

    def reindex(self, store: RecordStore, progress: Progress) -> None:
        self.events.append(("reindex", sorted(store.pmids())))

    def close(self) -> None:
        self.events.append(("close", []))


def test_upsert_stores_indexes_and_flags_then_tells_the_processors(
        settings: Settings, store: RecordStore) -> None:
    index, rec = FakeIndex(), Recorder()
    with Catalog(settings, store, index=index, processors=[rec]) as catalog:
        counts = catalog.upsert(arts("1", "2"), topic="depression")
        assert counts.new == ["1", "2"]
        again = catalog.upsert(arts("2"), topic="depression")
        assert again.unchanged == ["2"]
    assert sorted(index.docs) == ["1", "2"]
    assert index.docs["1"].topics == {"depression"}
    assert store.pending_index() == []
    assert store.get("1").keywords == ["prepared"]  # prepare runs before the store writes
    assert rec.events == [("prepare", ["1", "2"]), ("committed", ["1", "2"]),
                          ("prepare", ["2"]), ("close", [])]


def test_deferred_upserts_commit_in_even_batches(settings: Settings, store: RecordStore) -> None:
    index = FakeIndex()
    catalog = Catalog(settings, store, index=index, processors=[], index_batch=3)
    catalog.upsert(arts("1", "2"), defer=True)
    assert index.commits == [] and catalog.queued == 2
    assert sorted(store.pending_index()) == ["1", "2"]  # stored, not yet indexed
    catalog.upsert(arts("3", "4"), defer=True)
    assert index.commits == [3] and catalog.queued == 1
    store.upsert(arts("5", "6"), topic="ocd")
    catalog.tag(["5", "6"], "depression", defer=True)
    assert index.commits == [3, 3] and catalog.queued == 0
    assert index.docs["6"].topics == {"ocd", "depression"}
    catalog.upsert(arts("7"), defer=True)
    catalog.flush()
    assert index.commits == [3, 3, 1]
    assert store.pending_index() == []


def test_a_failing_index_at_the_end_leaves_records_for_catch_up(
        settings: Settings, store: RecordStore, caplog: pytest.LogCaptureFixture) -> None:
    index = FakeIndex()
    catalog = Catalog(settings, store, index=index, processors=[], index_batch=10)
    catalog.upsert(arts("1", "2"), defer=True)
    index.fail = True
    with caplog.at_level(logging.WARNING, logger="ketlit.catalog"):
        catalog.flush(failing=True)  # ending on an error: warn, keep them flagged
    assert "2 stored record(s) are not in the index yet" in caplog.text
    assert sorted(store.pending_index()) == ["1", "2"]
    with pytest.raises(IndexUnavailableError):
        catalog.upsert(arts("3"))  # a normal write says so
    index.fail = False
    assert catalog.catch_up() == 3
    assert sorted(index.docs) == ["1", "2", "3"] and store.pending_index() == []


def test_delete_is_replayed_after_a_crash_between_store_and_index(
        settings: Settings, store: RecordStore) -> None:
    index, rec = FakeIndex(), Recorder()
    catalog = Catalog(settings, store, index=index, processors=[rec])
    catalog.upsert(arts("1", "2", "3"))
    index.fail = True
    with pytest.raises(IndexUnavailableError):
        catalog.delete(["2", "9"])
    assert store.get("2") is None and "2" in index.docs
    assert sorted(store.pending_index_deletes()) == ["2", "9"]
    index.fail = False
    rec.events.clear()
    catalog.catch_up()
    assert sorted(index.docs) == ["1", "3"] and store.pending_index_deletes() == []
    assert rec.events == [("committed", ["-2", "-9"])]
    assert catalog.delete(["3"]) == ["3"] and sorted(index.docs) == ["1"]


def test_drop_topic_retags_or_deletes(settings: Settings, store: RecordStore) -> None:
    index = FakeIndex()
    catalog = Catalog(settings, store, index=index, processors=[])
    catalog.upsert(arts("1"), topic="depression")
    catalog.upsert(arts("2"), topic="depression", extra_topics=["ocd"])
    catalog.upsert(arts("3"), origin=ORIGIN_INGEST, extra_topics=["depression"])
    deleted, retagged = catalog.drop_topic("depression", ["1", "2", "3"])
    assert deleted == ["1"]
    assert sorted(a.pmid for a in retagged) == ["2", "3"]
    assert sorted(index.docs) == ["2", "3"] and index.docs["2"].topics == {"ocd"}
    assert index.docs["3"].topics == set()
    assert store.left_since("0", "depression") == ["1", "2", "3"]
    assert store.pending_index() == [] and store.pending_index_deletes() == []


def test_reindex_runs_the_processors_first(settings: Settings, store: RecordStore) -> None:
    index, rec = FakeIndex(), Recorder()
    store.upsert(arts("1", "2"))
    catalog = Catalog(settings, store, index=index, processors=[rec])
    assert catalog.reindex() == 2
    assert rec.events == [("reindex", ["1", "2"])] and index.rebuilt == 1


def test_annotator_fills_missing_annotations_and_refreshes_at_reindex(
        store: RecordStore) -> None:
    from index.annotations import annotate

    title = "Esketamine nasal spray: a randomized controlled trial"
    a = Article(pmid="1", title=title, pub_year=2020)
    Annotator().prepare([a])
    assert a.annotations == annotate(a)
    store.upsert([Article(pmid="2", title=title, pub_year=2020)])
    stale = store.get("2")
    assert stale is not None
    stale.annotations = None
    store.conn.execute("UPDATE articles SET json=? WHERE pmid='2'", (stale.to_json(),))
    Annotator().reindex(store, NullProgress())
    fresh = store.get("2")
    assert fresh is not None and fresh.annotations == annotate(fresh)


def test_catalog_over_whoosh_end_to_end(settings: Settings, store: RecordStore) -> None:
    from index.whoosh.writer import open_index

    with Catalog(settings, store) as catalog:
        assert isinstance(catalog.processors[0], Annotator)
        catalog.upsert(arts("1", "2", "3"), topic="depression")
        catalog.delete(["2"])
    assert reindex(settings) == 2
    ix = open_index(settings)
    try:
        with ix.searcher() as s:
            assert sorted(d["pmid"] for d in s.all_stored_fields()) == ["1", "3"]
    finally:
        ix.close()
    assert type(writable_index(settings)).__name__ == "WhooshWritableIndex"


def test_callers_write_only_through_the_catalog() -> None:
    """harvester/ and the CLI never open an index writer; the Whoosh writer runs no SQL."""
    for path in (REPO / "harvester").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "index.whoosh.writer" not in text, path
        assert "open_index_writer" not in text and "sync_pending" not in text, path
    cli = (REPO / "search" / "cli.py").read_text(encoding="utf-8")
    assert "rebuild_index" not in cli
    for name in ("index/whoosh/writer.py", "index/solr/backend.py"):
        text = (REPO / name).read_text(encoding="utf-8")
        assert not re.search(r"\.conn\b|\bSELECT\b|\bUPDATE\b", text), name
    writer = (REPO / "index/whoosh/writer.py").read_text(encoding="utf-8")
    # The Solr write branches live behind the Catalog (index.catalog.writable_index).
    assert "open_solr_writer" not in writer and "rebuild_solr" not in writer
