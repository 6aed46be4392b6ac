from __future__ import annotations

from pathlib import Path

import pytest

from index.article import Article
from index.store import ORIGIN_INGEST, RecordStore


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    s = RecordStore(tmp_path / "r.sqlite3")
    yield s
    s.close()


def test_upsert_merges_topics_into_one_record(store: RecordStore) -> None:
    c1 = store.upsert([Article(pmid="1", title="a")], topic="depression")
    c2 = store.upsert([Article(pmid="1", title="a")], topic="ptsd")
    assert c1.new == ["1"] and c2.updated == ["1"]
    assert store.count() == 1
    assert store.get("1").topics == {"depression", "ptsd"}
    assert store.pmids("ptsd") == {"1"} and store.count("depression") == 1


def test_unchanged_record_is_not_rewritten(store: RecordStore) -> None:
    store.upsert([Article(pmid="1", title="a")], topic="t")
    store.mark_indexed(["1"])
    c = store.upsert([Article(pmid="1", title="a")], topic="t")
    assert c.unchanged == ["1"] and store.pending_index() == []
    c = store.upsert([Article(pmid="1", title="revised")], topic="t")
    assert c.updated == ["1"] and store.pending_index() == ["1"]


def test_transaction_rolls_back_the_whole_batch(store: RecordStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert([Article(pmid="1"), Article(pmid="2")], topic="t")
        raise RuntimeError("crash between batch and checkpoint")
    assert store.count() == 0


def test_topic_lookup_is_exact_not_a_pattern(store: RecordStore) -> None:
    store.upsert([Article(pmid="1")], topic="a_b")
    store.upsert([Article(pmid="2")], topic="axb")
    assert store.pmids("a_b") == {"1"}


def test_origin_flags_and_streaming(store: RecordStore) -> None:
    store.upsert([Article(pmid=str(i)) for i in range(1, 2501)], topic="t")
    store.upsert([Article(pmid="9999")], origin=ORIGIN_INGEST)
    assert store.origin("9999") == (False, True) and store.origin("1") == (True, False)
    assert sum(1 for _ in store.iter_articles(batch=300)) == 2501
    assert len(store.get_many([str(i) for i in range(1, 1200)] + ["nope"])) == 1199


def test_a_record_is_new_to_a_topic_it_joins_later(store: RecordStore) -> None:
    store.conn.execute("BEGIN")
    store.upsert([Article(pmid="1")], topic="depression")
    store.conn.execute("UPDATE articles SET first_seen='2020-01-01T00:00:00+00:00'")
    store.conn.execute("UPDATE topic_seen SET first_seen='2020-01-01T00:00:00+00:00'")
    store.conn.execute("COMMIT")
    since = "2024-01-01T00:00:00+00:00"
    store.upsert([Article(pmid="1")], topic="ptsd")  # now also matches a second topic
    store.add_topic(["2"], "ocd")  # unknown PMIDs are ignored
    assert store.new_since(since) == []  # not new to the store...
    assert store.new_since(since, topic="ptsd") == ["1"]  # ...but new to PTSD
    assert store.new_since(since, topic="depression") == []
    store.set_topics("1", {"depression"})
    assert store.new_since(since, topic="ptsd") == []
    store.delete(["1"])
    assert store.new_since("2000-01-01T00:00:00+00:00", topic="depression") == []


def test_topic_seen_is_backfilled_for_older_stores(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    s = RecordStore(path)
    s.upsert([Article(pmid="1")], topic="depression")
    s.conn.execute("DELETE FROM topic_seen")
    s.close()
    s = RecordStore(path)
    assert s.new_since("2000-01-01T00:00:00+00:00", topic="depression") == ["1"]
    s.close()


def test_every_stamp_comes_from_the_injected_clock(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = [datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)]
    with RecordStore(tmp_path / "c.sqlite3", clock=lambda: now[0]) as s:
        s.upsert([Article(pmid="1", title="a")], topic="t")
        now[0] += timedelta(days=1)
        s.upsert([Article(pmid="1", title="a")], topic="u")
        run = s.start_run("t", "incremental")
        s.finish_run(run, "ok")
        assert s.new_since("2001-02-03T04:05:06+00:00") == ["1"]
        assert s.new_since("2001-02-04T00:00:00+00:00", topic="u") == ["1"]
        assert s.new_since("2001-02-04T00:00:00+00:00", topic="t") == []
        assert s.runs()[0].started == "2001-02-04T04:05:06+00:00"
        assert s.now() == "2001-02-04T04:05:06+00:00"


def test_arrivals_are_newest_first_per_topic_and_limited(tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    t = [datetime(2026, 1, 1, tzinfo=UTC)]
    with RecordStore(tmp_path / "s.sqlite3", clock=lambda: t[0]) as store:
        for i, topic in enumerate(["a", "b", "a"]):
            t[0] += timedelta(hours=1)
            store.upsert([Article(pmid=str(10 + i), title="x")], topic=topic)
        t[0] += timedelta(hours=1)
        store.upsert([Article(pmid="10", title="x")], topic="b")  # joins b later
        assert [p for p, _ in store.arrivals()] == ["12", "11", "10"]
        assert [p for p, _ in store.arrivals("b")] == ["10", "11"]
        assert store.arrivals("a", limit=1) == [("12", "2026-01-01T03:00:00+00:00")]


def test_an_older_copy_never_replaces_a_newer_one(store: RecordStore) -> None:
    new = Article(pmid="9997", title="2025 title", revised_date="2025-01-10")
    store.upsert([new], topic="t")
    old = Article(pmid="9997", title="2003 title", revised_date="2003-11-14")
    counts = store.upsert([old], topic="u")
    kept = store.get("9997")
    assert kept.title == "2025 title" and kept.topics == {"t", "u"}
    # The caller indexes what it passed: it now holds the stored version too.
    assert old.title == "2025 title" and counts.updated == ["9997"]
    store.upsert([Article(pmid="9997", title="2026 title", revised_date="2026-02-01")])
    assert store.get("9997").title == "2026 title"


def _damage(path: Path) -> None:
    """Overwrite the middle of a store with garbage, as a bad disk or a stray write would."""
    data = bytearray(path.read_bytes())
    for i in range(4096, min(len(data), 4096 * 3)):
        data[i] = 0xA5
    path.write_bytes(bytes(data))


def test_a_damaged_store_is_reported_naming_the_file(tmp_path: Path) -> None:
    from index.errors import CorruptDataError

    path = tmp_path / "records.sqlite3"
    with RecordStore(path) as s:
        s.upsert([Article(pmid=str(i), title="t " * 200) for i in range(300)], topic="t")
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _damage(path)
    damaged = RecordStore(path)
    with pytest.raises(CorruptDataError, match=r"records\.sqlite3 is damaged.*harvest --full"):
        damaged.check()
    damaged.close()
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CorruptDataError, match=r"records\.sqlite3 is damaged"):
        RecordStore(path)
