"""The record store's bookkeeping beside the articles: the PMIDs a full harvest has seen, the
index's pending deletes and flags, the per-topic checkpoints, the run log and the meta table.

A mixin of :class:`index.store.RecordStore` (split from index/store.py by concern): it works on the
store's one connection and clock, so a checkpoint still commits in the same transaction as the
records it covers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from index.store_schema import Clock, RunRecord, utcnow


class StoreBookkeeping:
    """Checkpoints, run log, index flags and meta of a :class:`index.store.RecordStore`."""

    conn: sqlite3.Connection
    clock: Clock

    def now(self) -> str:
        """Now by the store's clock, in the store's timestamp format."""
        return utcnow(self.clock)

    def add_seen(self, topic: str, pmids: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO sync_seen(topic, pmid) VALUES (?,?)",
                              ((topic, p) for p in pmids))

    def seen(self, topic: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT pmid FROM sync_seen WHERE topic=?",
                                                (topic,))}

    def clear_seen(self, topic: str) -> None:
        self.conn.execute("DELETE FROM sync_seen WHERE topic=?", (topic,))

    def delete_for_index(self, pmids: Iterable[str]) -> list[str]:
        """Delete records and remember that the index still has to drop them (call inside a
        transaction, then ``pending_index_deletes`` / ``clear_index_deletes`` around the index
        commit). Returns the PMIDs that were in the store."""
        gone: list[str] = []
        for pmid in pmids:
            if self.conn.execute("DELETE FROM articles WHERE pmid=?", (pmid,)).rowcount:
                gone.append(pmid)
            self.conn.execute("DELETE FROM topic_seen WHERE pmid=?", (pmid,))
            self.conn.execute("INSERT OR IGNORE INTO index_deletes(pmid) VALUES (?)", (pmid,))
        return gone

    def pending_index_deletes(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT pmid FROM index_deletes")]

    def clear_index_deletes(self, pmids: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM index_deletes WHERE pmid=?", ((p,) for p in pmids))

    # -- index bookkeeping ------------------------------------------------------------------------

    def pending_index(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT pmid FROM articles WHERE indexed=0")]

    def mark_indexed(self, pmids: Iterable[str]) -> None:
        self.conn.executemany("UPDATE articles SET indexed=1 WHERE pmid=?", ((p,) for p in pmids))

    def mark_all_unindexed(self) -> None:
        self.conn.execute("UPDATE articles SET indexed=0")

    def rebuild_started(self) -> str:
        """The store's clock (whole seconds) at the start of a rebuild, for
        :meth:`changed_since` at its end.

        Waits for the next whole second first: every row stamped up to the returned second was
        written before the rebuild began reading, so only rows stamped later need catching up
        (comparing with >= would re-index everything written in the same second).
        """
        first = self.now()
        while self.now() == first:
            time.sleep(0.02)
        return first

    def changed_since(self, stamp: str) -> list[str]:
        """PMIDs of the records written (added or changed) after ``stamp``
        (:meth:`rebuild_started`)."""
        return [r[0] for r in self.conn.execute(
            "SELECT pmid FROM articles WHERE updated > ?", (stamp,))]

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, topic: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT query, last_date, last_success, state FROM checkpoints WHERE topic=?",
            (topic,)).fetchone()
        if row is None:
            return None
        return {"query": row[0], "last_date": row[1], "last_success": row[2],
                "state": json.loads(row[3]) if row[3] else None}

    def set_checkpoint(self, topic: str, *, query: str | None = None,
                       last_date: str | None = None, last_success: str | None = None,
                       state: dict[str, Any] | None = None, clear_state: bool = False) -> None:
        cur = self.checkpoint(topic) or {"query": None, "last_date": None, "last_success": None,
                                         "state": None}
        if query is not None:
            cur["query"] = query
        if last_date is not None:
            cur["last_date"] = last_date
        if last_success is not None:
            cur["last_success"] = last_success
        if state is not None:
            cur["state"] = state
        if clear_state:
            cur["state"] = None
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints(topic, query, last_date, last_success, state)"
            " VALUES (?,?,?,?,?)",
            (topic, cur["query"], cur["last_date"], cur["last_success"],
             json.dumps(cur["state"]) if cur["state"] is not None else None))

    # -- run log --------------------------------------------------------------------------------

    def start_run(self, topic: str, mode: str) -> int:
        cur = self.conn.execute("INSERT INTO runs(topic, mode, started) VALUES (?,?,?)",
                                (topic, mode, self.now()))
        return int(cur.lastrowid or 0)

    def update_run(self, run_id: int, **fields: Any) -> None:
        if "missing" in fields and not isinstance(fields["missing"], str):
            fields["missing"] = ",".join(fields["missing"])
        cols = ", ".join(f"{k}=?" for k in fields)
        self.conn.execute(f"UPDATE runs SET {cols} WHERE id=?", (*fields.values(), run_id))

    def finish_run(self, run_id: int, status: str, error: str | None = None, **fields: Any) -> None:
        self.update_run(run_id, status=status, error=error, ended=self.now(), **fields)

    def close_stale_runs(self) -> None:
        """Runs left 'running' by a killed process are marked interrupted."""
        self.conn.execute("UPDATE runs SET status='interrupted', ended=coalesce(ended, ?) "
                          "WHERE status='running'", (self.now(),))

    def last_runs(self) -> dict[str, RunRecord]:
        """The latest run of each topic."""
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY topic)")
        return {r[1]: _run(r) for r in rows}

    def runs(self, limit: int = 50) -> list[RunRecord]:
        return [_run(r) for r in self.conn.execute(
            "SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))]

    # -- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", (key, value))



def _run(r: tuple[Any, ...]) -> RunRecord:
    return RunRecord(id=r[0], topic=r[1], mode=r[2], started=r[3], ended=r[4], status=r[5],
                     windows=r[6], requests=r[7], new=r[8], updated=r[9], deleted=r[10],
                     failed=r[11], missing=[m for m in (r[12] or "").split(",") if m],
                     error=r[13])
