"""The record store: every harvested or ingested Article, kept in SQLite.

This is the source of truth. The Whoosh index is derived from it (``ketlit reindex`` rebuilds the
index from here, offline), because a multi-file Whoosh index is not crash-safe on its own while an
SQLite transaction is. The store also keeps the per-topic checkpoints and the run log, so that a
checkpoint and the records it covers are committed in the same database.

Rows carry an ``indexed`` flag: a batch is written here first (indexed=0), then to Whoosh, then
flagged indexed=1. After a crash between the two, ``pending_index()`` lists what Whoosh still lacks
and the next harvest or reindex applies it; no record is ever lost between the two stores.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.annotations import annotate
from index.article import Article
from index.errors import CorruptDataError, environment_error
from index.store_bookkeeping import StoreBookkeeping

# Split by concern (pure code motion): the schema, row types and clock live in store_schema.py,
# the checkpoints / run log / index flags in store_bookkeeping.py; callers keep importing them
# from here.
from index.store_schema import (
    _SCHEMA,
    Clock,
    RunRecord,
    UpsertCounts,
    _open_readonly,
    system_clock,
    utcnow,
)

__all__ = ["ORIGIN_HARVEST", "ORIGIN_INGEST", "Clock", "RecordStore", "RunRecord",
           "UpsertCounts", "system_clock", "utcnow"]

ORIGIN_HARVEST = "harvest"
ORIGIN_INGEST = "ingest"


class RecordStore(StoreBookkeeping):
    """SQLite-backed store. One connection per instance; open one per thread or process."""

    def __init__(self, path: Path, *, clock: Clock = system_clock, readonly: bool = False) -> None:
        self.path = Path(path)
        # Every stamp the store writes (first_seen, updated, run times) comes from this clock, so
        # tests can pin "now" instead of depending on today's date.
        self.clock = clock
        self.readonly = readonly
        if readonly:
            self.conn = _open_readonly(self.path)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (``transaction()``), so a batch and its
        # checkpoint commit together or not at all.
        self.conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None,
                                    check_same_thread=False)
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL with WAL is durable against process crashes (kill -9), which is what a
            # harvest has to survive; only a power cut could lose the last commit, and reharvest
            # covers that.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
            self._backfill_topic_seen()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise environment_error(exc, self.path) or exc from exc

    def check(self) -> None:
        """SQLite's quick_check of the whole store, before a harvest or reindex writes: a
        damaged store stops them with one line naming the file instead of adding to it."""
        try:
            rows = self.conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise environment_error(exc, self.path) or exc from exc
        # quick_check answers "ok" or many lines of findings: name the first, keep one line.
        problems = [line for r in rows if r[0] != "ok" for line in str(r[0]).splitlines()
                    if line.strip() and not line.startswith("***")]
        if problems:
            more = f" and {len(problems) - 1} more findings" if len(problems) > 1 else ""
            raise CorruptDataError(
                f"{self.path} is damaged ({problems[0][:80]}{more}): "
                "restore it from a backup, or move it away and run `ketlit harvest --full` to "
                "fetch the records again")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- articles -------------------------------------------------------------------------------

    def upsert(self, articles: Iterable[Article], *, topic: str | None = None,
               origin: str = ORIGIN_HARVEST, extra_topics: Iterable[str] = ()) -> UpsertCounts:
        """Insert or replace articles, merging topics with what the store already has.

        A record matched by two topics stays one row carrying both. The article's own ``topics``
        are ignored in favour of the stored ones plus ``topic``/``extra_topics``; the returned
        articles (mutated in place) carry the merged set, ready for the index.
        Must be called inside ``transaction()`` when it is part of a larger unit; on its own it
        runs in a transaction of its own.
        """
        counts = UpsertCounts()
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            now = self.now()
            add = set(extra_topics)
            if topic:
                add.add(topic)
            for art in articles:
                # Every stored record carries its evidence annotations, whatever wrote it
                # (harvest, ingest, reindex). The harvest's parse helper computes them on its own
                # core (harvester/parse_worker.py); whatever arrives without them is annotated
                # here. Stale ones cannot arrive: parsed records are fresh, and reindex refreshes
                # stored ones when the rules change.
                if art.annotations is None:
                    art.annotations = annotate(art)
                row = self.conn.execute(
                    "SELECT json, topics, harvested, ingested FROM articles WHERE pmid=?",
                    (art.pmid,)).fetchone()
                harvested = origin == ORIGIN_HARVEST
                ingested = origin == ORIGIN_INGEST
                if row is None:
                    art.topics = set(add)
                    counts.new.append(art.pmid)
                    self.conn.execute(
                        "INSERT INTO articles(pmid, json, topics, harvested, ingested, first_seen,"
                        " updated, indexed) VALUES (?,?,?,?,?,?,?,0)",
                        (art.pmid, art.to_json(), _topics_col(art.topics), int(harvested),
                         int(ingested), now, now))
                    self._note_topics(art.pmid, art.topics, now)
                    continue
                old_topics = set(filter(None, row[1].split(",")))
                if _is_older(art, row[0]):
                    # An older copy (a 2008 file ingested after a 2025 harvest) never replaces
                    # a newer one: the caller gets the stored version back, so the index it
                    # writes next agrees with the store.
                    art.__dict__.update(Article.from_json(row[0]).__dict__)
                art.topics = old_topics | add
                self._note_topics(art.pmid, add - old_topics, now)
                new_json = art.to_json()
                if new_json == row[0]:
                    counts.unchanged.append(art.pmid)
                    if (harvested and not row[2]) or (ingested and not row[3]):
                        self.conn.execute(
                            "UPDATE articles SET harvested=max(harvested,?), ingested=max(ingested,?)"
                            " WHERE pmid=?", (int(harvested), int(ingested), art.pmid))
                    continue
                counts.updated.append(art.pmid)
                self.conn.execute(
                    "UPDATE articles SET json=?, topics=?, harvested=max(harvested,?),"
                    " ingested=max(ingested,?), updated=?, indexed=0 WHERE pmid=?",
                    (new_json, _topics_col(art.topics), int(harvested), int(ingested), now,
                     art.pmid))
        except BaseException:
            if own:
                self.conn.execute("ROLLBACK")
            raise
        if own:
            self.conn.execute("COMMIT")
        return counts

    def set_topics(self, pmid: str, topics: set[str]) -> Article | None:
        """Replace a record's topics (reconciliation); returns the updated Article."""
        art = self.get(pmid)
        if art is None:
            return None
        removed = art.topics - set(topics)
        self._note_topics(pmid, set(topics) - art.topics, self.now())
        art.topics = set(topics)
        self.conn.execute("UPDATE articles SET json=?, topics=?, updated=?, indexed=0 WHERE pmid=?",
                          (art.to_json(), _topics_col(art.topics), self.now(), pmid))
        self.conn.executemany("DELETE FROM topic_seen WHERE pmid=? AND topic=?",
                              ((pmid, t) for t in removed))
        return art

    def delete(self, pmids: Iterable[str]) -> int:
        n = 0
        for pmid in pmids:
            n += self.conn.execute("DELETE FROM articles WHERE pmid=?", (pmid,)).rowcount
            self.conn.execute("DELETE FROM topic_seen WHERE pmid=?", (pmid,))
        return n

    def get(self, pmid: str) -> Article | None:
        row = self.conn.execute("SELECT json FROM articles WHERE pmid=?", (pmid,)).fetchone()
        return Article.from_json(row[0]) if row else None

    def get_many(self, pmids: Iterable[str]) -> dict[str, Article]:
        """Articles by PMID (missing ones left out); one query per 500 ids."""
        ids = list(dict.fromkeys(pmids))
        out: dict[str, Article] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for pmid, js in self.conn.execute(
                    f"SELECT pmid, json FROM articles WHERE pmid IN ({marks})", chunk):
                out[pmid] = Article.from_json(js)
        return out

    def iter_articles(self, batch: int = 1000) -> Iterator[Article]:
        """Every article in PMID order, streamed in constant memory."""
        last = ""
        while True:
            rows = self.conn.execute(
                "SELECT pmid, json FROM articles WHERE pmid > ? ORDER BY pmid LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return
            for _pmid, js in rows:
                yield Article.from_json(js)
            last = rows[-1][0]

    def refresh_annotations(self, batch: int = 1000) -> int:
        """Recompute every record's evidence annotations (reindex: records stored before they
        existed, or under older rules); rewrites only rows whose annotations changed, without
        touching their dates or index flags (the reindex that calls this re-reads them all)."""
        changed = 0
        last = ""
        while True:
            rows = self.conn.execute(
                "SELECT pmid, json FROM articles WHERE pmid > ? ORDER BY pmid LIMIT ?",
                (last, batch)).fetchall()
            if not rows:
                return changed
            updates = []
            for pmid, js in rows:
                art = Article.from_json(js)
                ann = annotate(art)
                if ann != art.annotations:
                    art.annotations = ann
                    updates.append((art.to_json(), pmid))
            if updates:
                with self.transaction():
                    self.conn.executemany("UPDATE articles SET json=? WHERE pmid=?", updates)
                changed += len(updates)
            last = rows[-1][0]

    def pmids(self, topic: str | None = None) -> set[str]:
        if topic is None:
            return {r[0] for r in self.conn.execute("SELECT pmid FROM articles")}
        return {r[0] for r in self.conn.execute(
            "SELECT pmid FROM articles WHERE instr(topics, ?) > 0", (f",{topic},",))}

    def origin(self, pmid: str) -> tuple[bool, bool] | None:
        """(harvested, ingested) flags of a record."""
        row = self.conn.execute("SELECT harvested, ingested FROM articles WHERE pmid=?",
                                (pmid,)).fetchone()
        return (bool(row[0]), bool(row[1])) if row else None

    def count(self, topic: str | None = None) -> int:
        if topic is None:
            return self.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM articles WHERE instr(topics, ?) > 0",
                                 (f",{topic},",)).fetchone()[0]

    def new_since(self, since: str, topic: str | None = None) -> list[str]:
        """PMIDs new at or after ``since`` (ISO timestamp), newest first: new to the store, or
        with ``topic``, new to that topic (also records the store already had for another)."""
        if topic:
            return [r[0] for r in self.conn.execute(
                "SELECT pmid FROM topic_seen WHERE topic=? AND first_seen >= ?"
                " ORDER BY first_seen DESC, pmid DESC", (topic, since))]
        return [r[0] for r in self.conn.execute(
            "SELECT pmid FROM articles WHERE first_seen >= ? ORDER BY first_seen DESC, pmid DESC",
            (since,))]

    def arrivals(self, topic: str | None = None,
                 limit: int | None = None) -> list[tuple[str, str]]:
        """(PMID, first seen) newest first: what arrived in the store (or in ``topic``), for
        feeds; ``limit`` keeps a feed of a 100,000-record store to its newest entries."""
        tail = " LIMIT ?" if limit is not None else ""
        args: tuple[Any, ...] = (limit,) if limit is not None else ()
        if topic:
            return [(r[0], r[1]) for r in self.conn.execute(
                "SELECT pmid, first_seen FROM topic_seen WHERE topic=?"
                " ORDER BY first_seen DESC, pmid DESC" + tail, (topic, *args))]
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT pmid, first_seen FROM articles ORDER BY first_seen DESC, pmid DESC" + tail,
            args)]

    def _note_topics(self, pmid: str, topics: Iterable[str], when: str) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO topic_seen(pmid, topic, first_seen) VALUES (?,?,?)",
            ((pmid, t, when) for t in topics))

    def _backfill_topic_seen(self) -> None:
        """Stores written before topic_seen existed: a record joined its topics when it arrived."""
        if self.conn.execute("SELECT 1 FROM topic_seen LIMIT 1").fetchone():
            return
        if not self.conn.execute("SELECT 1 FROM articles WHERE topics != '' LIMIT 1").fetchone():
            return
        with self.transaction():
            for pmid, topics, first_seen in self.conn.execute(
                    "SELECT pmid, topics, first_seen FROM articles WHERE topics != ''").fetchall():
                self._note_topics(pmid, filter(None, topics.split(",")), first_seen)

    # -- harvest bookkeeping ----------------------------------------------------------------------

    def note_left(self, topic: str, pmids: Iterable[str]) -> None:
        now = self.now()
        self.conn.executemany("INSERT OR IGNORE INTO topic_left(pmid, topic, left_at) "
                              "VALUES (?,?,?)", [(p, topic, now) for p in pmids])

    def left_since(self, since: str, topic: str) -> list[str]:
        """PMIDs that left ``topic`` at or after ``since`` (the store's timestamp format)."""
        rows = self.conn.execute("SELECT DISTINCT pmid FROM topic_left WHERE topic=? AND "
                                 "left_at>=? ORDER BY pmid", (topic, since)).fetchall()
        return [r[0] for r in rows]

    def known(self, pmids: Iterable[str]) -> dict[str, tuple[str | None, set[str]]]:
        """For the PMIDs the store has: (the stored record's revised_date, its topics)."""
        ids = list(dict.fromkeys(pmids))
        out: dict[str, tuple[str | None, set[str]]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for pmid, revised, topics in self.conn.execute(
                    "SELECT pmid, json_extract(json, '$.revised_date'), topics FROM articles"
                    f" WHERE pmid IN ({marks})", chunk):
                out[pmid] = (revised, set(filter(None, topics.split(","))))
        return out

    def add_topic(self, pmids: Iterable[str], topic: str) -> list[Article]:
        """Tag stored records with a topic without fetching them again; returns the changed ones
        (flagged for indexing) so the caller can update the index."""
        changed: list[Article] = []
        for pmid, art in self.get_many(pmids).items():
            if topic in art.topics:
                continue
            art.topics = art.topics | {topic}
            self._note_topics(pmid, {topic}, self.now())
            self.conn.execute(
                "UPDATE articles SET json=?, topics=?, harvested=1, updated=?, indexed=0"
                " WHERE pmid=?", (art.to_json(), _topics_col(art.topics), self.now(), pmid))
            changed.append(art)
        return changed




_REVISED = re.compile(r'"revised_date":"([^"]*)"')


def _is_older(art: Article, stored_json: str) -> bool:
    """Is ``art`` an earlier revision than the stored record? Compares PubMed's DateRevised
    (ISO dates compare as text). Against a stored record without one nothing is older; a copy
    without one is older than a stored record with one."""
    m = _REVISED.search(stored_json)
    if not m:
        return False
    return not art.revised_date or art.revised_date < m.group(1)


def _topics_col(topics: Iterable[str]) -> str:
    t = sorted(topics)
    return "," + ",".join(t) + "," if t else ""
