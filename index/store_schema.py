"""The record store's SQLite schema, its row types and its clock, and how a read-only store is
opened (split from index/store.py, which re-exports the public names)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.errors import environment_error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    pmid        TEXT PRIMARY KEY,
    json        TEXT NOT NULL,
    topics      TEXT NOT NULL DEFAULT '',   -- ',topic1,topic2,' for instr() lookups
    harvested   INTEGER NOT NULL DEFAULT 0, -- matched by a topic query at some harvest
    ingested    INTEGER NOT NULL DEFAULT 0, -- added by `ketlit ingest`
    first_seen  TEXT NOT NULL,              -- ISO UTC timestamp the record entered the store
    updated     TEXT NOT NULL,
    indexed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS articles_first_seen ON articles(first_seen);
CREATE INDEX IF NOT EXISTS articles_indexed ON articles(indexed);
CREATE TABLE IF NOT EXISTS checkpoints (
    topic       TEXT PRIMARY KEY,
    query       TEXT,
    last_date   TEXT,        -- ISO date up to which the topic is complete (inclusive)
    last_success TEXT,       -- ISO UTC timestamp of the last successful run
    state       TEXT         -- JSON: resumable position inside a running full harvest
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT NOT NULL,
    mode        TEXT,
    started     TEXT NOT NULL,
    ended       TEXT,
    status      TEXT NOT NULL DEFAULT 'running',  -- running, ok, failed, interrupted
    windows     INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0,
    new         INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    missing     TEXT NOT NULL DEFAULT '',          -- PMIDs PubMed no longer returned
    error       TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
-- PMIDs a running `harvest --full` has seen per topic, kept across a crash so that the
-- reconciliation at the end of a resumed walk knows the whole topic.
CREATE TABLE IF NOT EXISTS sync_seen (
    topic       TEXT NOT NULL,
    pmid        TEXT NOT NULL,
    PRIMARY KEY (topic, pmid)
);
-- PMIDs removed from the store whose removal the index has not committed yet: written in the
-- same transaction as the DELETE, cleared after the index commit, replayed after a crash.
CREATE TABLE IF NOT EXISTS index_deletes (pmid TEXT PRIMARY KEY);
-- When each record joined each topic. A record already in the store for one topic that starts
-- matching another (a new topic in the config, a revised record) is new *to that topic*, and the
-- digest and `ketlit new --topic` must list it, which articles.first_seen alone cannot tell.
CREATE TABLE IF NOT EXISTS topic_seen (
    pmid        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    PRIMARY KEY (topic, pmid)
);
CREATE INDEX IF NOT EXISTS topic_seen_first ON topic_seen(topic, first_seen);
-- When a record left a topic (PubMed deleted it, or the topic's query no longer matches it),
-- so that the digest can say what left as well as what arrived.
CREATE TABLE IF NOT EXISTS topic_left (
    pmid        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    left_at     TEXT NOT NULL,
    PRIMARY KEY (topic, pmid, left_at)
);
"""


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def utcnow(clock: Clock = system_clock) -> str:
    """The store's timestamp format: UTC ISO 8601 with whole seconds (compared as text)."""
    return clock().astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class UpsertCounts:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass
class RunRecord:
    id: int
    topic: str
    mode: str | None
    started: str
    ended: str | None
    status: str
    windows: int
    requests: int
    new: int
    updated: int
    deleted: int
    failed: int
    missing: list[str]
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A connection that never writes, for every command that only reads (search, show,
    similar, stats, export, serve), so they work on a data_dir they may not write: a read-only
    disk, a snapshot, another user's harvest. SQLite's mode=ro still needs the WAL's shared
    memory file; where that cannot be made (a read-only directory) the store is opened as
    immutable, which is safe there since nothing can write it either. A missing store reads as
    an empty one."""
    if not path.exists():
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.executescript(_SCHEMA)
        return conn
    uri = path.resolve().as_uri()
    for mode in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=60, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM articles").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if "no such table" in str(exc):
                raise environment_error(sqlite3.DatabaseError(str(exc)), path) or exc from exc
            last = exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise environment_error(exc, path) or exc from exc
    raise environment_error(last, path) or last
