"""The store's bookkeeping (index/store_bookkeeping.py): checkpoints and the run log."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.store import RecordStore


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    s = RecordStore(tmp_path / "r.sqlite3")
    yield s
    s.close()


def test_checkpoints_and_run_log(store: RecordStore) -> None:
    assert store.checkpoint("t") is None
    store.set_checkpoint("t", query="q", state={"windows_done": 2})
    store.set_checkpoint("t", last_date="2024-01-02", clear_state=True)
    cp = store.checkpoint("t")
    assert cp == {"query": "q", "last_date": "2024-01-02", "last_success": None, "state": None}
    run = store.start_run("t", "full")
    store.finish_run(run, "failed", error="boom", new=3, missing=["5", "6"])
    store.start_run("u", "incremental")
    store.close_stale_runs()
    last = store.last_runs()
    assert last["t"].status == "failed" and last["t"].missing == ["5", "6"] and last["t"].new == 3
    assert last["u"].status == "interrupted"
