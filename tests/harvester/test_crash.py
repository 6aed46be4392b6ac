"""Crash safety with real processes: kill -9 at random moments, SIGTERM mid-harvest.

Each test harvests with the real console script in a subprocess against the loopback server, and
compares the end state with an uninterrupted harvest of the same server: same PMIDs, same stored
fields (the Article JSON, topics included), the same number of index documents, no duplicates,
and no lock left behind.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvester.harvest import run_harvest
from harvester.lock import lock_is_held
from index.settings import load_settings
from index.store import RecordStore
from tests.harvester.test_harvest import TOPICS, fast_pubmed, index_pmids, store_json
from tests.helpers import REPO, ketlit_executable, run_ketlit, write_config

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

# Small batches and a small cap: many windows, batches and checkpoints for a kill to land between.
CRASH_PUBMED = {"batch_size": 20, "max_results_per_query": 30}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    from tests.eutils_server import EutilsServer

    srv = EutilsServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def clean(server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: one uninterrupted harvest."""
    d = tmp_path_factory.mktemp("clean")
    settings = load_settings(_config(d, server))
    assert run_harvest(settings).ok
    return {"store": store_json(settings), "index": sorted(index_pmids(settings))}


def _config(directory: Path, server: Any) -> Path:
    return write_config(directory, pubmed=fast_pubmed(server, **CRASH_PUBMED),
                        topics={n: {"query": q} for n, q in TOPICS.items()})


def _start(cfg: Path) -> subprocess.Popen[str]:
    env = {**os.environ}
    env.pop("KETLIT_DEBUG", None)
    return subprocess.Popen(ketlit_executable() + ["--config", str(cfg), "harvest"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(REPO), env=env)


def _stored(cfg: Path) -> int:
    path = load_settings(cfg).store_path
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(str(path), timeout=5)
        try:
            return con.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # the harvest has not created the table yet
        return 0


def _assert_same_as_clean(cfg: Path, clean: dict[str, Any]) -> None:
    settings = load_settings(cfg)
    got = store_json(settings)
    assert set(got) == set(clean["store"])
    for pmid, record in clean["store"].items():
        assert got[pmid] == record, pmid
    pmids = index_pmids(settings)
    assert len(pmids) == len(set(pmids))  # no duplicate documents
    assert sorted(pmids) == clean["index"]
    assert not lock_is_held(settings.lock_path)
    assert not settings.lock_path.exists()


def test_kill_9_at_random_moments_then_harvest_equals_a_clean_run(
        tmp_path: Path, server: Any, clean: dict[str, Any]) -> None:
    cfg = _config(tmp_path, server)
    rng = random.Random(int(os.environ.get("KETLIT_CRASH_SEED", "20261127")))
    kills = 0
    for _ in range(5):
        proc = _start(cfg)
        time.sleep(rng.uniform(0.4, 4.0))
        if proc.poll() is not None:  # finished before the kill: nothing left to interrupt
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        # The killed run's lock never blocks the next one (flock dies with the process).
        assert not lock_is_held(load_settings(cfg).lock_path)
    assert kills >= 2, "the harvest finished too fast for the kills to land"
    final = run_ketlit(["harvest"], cfg, timeout=300)
    assert final.returncode == 0, final.stderr
    _assert_same_as_clean(cfg, clean)
    with RecordStore(load_settings(cfg).store_path) as store:
        statuses = [r.status for r in store.runs(100)]
        assert "interrupted" in statuses  # killed runs are closed as interrupted, not 'running'
        assert "running" not in statuses
    # And a run after that has nothing left to do.
    again = run_ketlit(["harvest"], cfg, timeout=300)
    assert again.returncode == 0 and "0 new, 0 updated" in again.stdout


def test_sigterm_mid_harvest_exits_zero_and_the_next_run_completes(
        tmp_path: Path, server: Any, clean: dict[str, Any]) -> None:
    cfg = _config(tmp_path, server)
    proc = _start(cfg)
    deadline = time.monotonic() + 60
    while _stored(cfg) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the harvest finished before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 0, err
    assert took < 5, f"took {took:.1f}s to stop"
    assert "interrupted" in out and "SIGTERM" in out
    assert "Traceback" not in err
    settings = load_settings(cfg)
    with RecordStore(settings.store_path) as store:
        assert store.last_runs()["patients"].status == "interrupted"
        assert 0 < store.count() < len(clean["store"])
    assert not settings.lock_path.exists()
    final = run_ketlit(["harvest"], cfg, timeout=300)
    assert final.returncode == 0, final.stderr
    _assert_same_as_clean(cfg, clean)


def test_sigterm_abandons_a_request_in_flight(tmp_path: Path, make_eutils_server: Any) -> None:
    """The server stops answering (each request held 30 s, longer than the client's timeout):
    SIGTERM must not wait for the answer."""
    srv = make_eutils_server(hold_s=30)
    cfg = write_config(tmp_path, pubmed=fast_pubmed(srv, timeout_s=60, **CRASH_PUBMED),
                       topics={n: {"query": q} for n, q in TOPICS.items()})
    proc = _start(cfg)
    deadline = time.monotonic() + 60
    while _stored(cfg) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    srv.set_faults(1.0, ["timeout"])
    time.sleep(1.0)  # the next request is now held by the server
    assert proc.poll() is None
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert time.monotonic() - sent < 5
    assert "interrupted" in out
    assert not load_settings(cfg).lock_path.exists()
