"""The harvest lock across real processes: refusal naming the holder, --wait, kill -9 never blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harvester.lock import harvest_lock, lock_is_held
from index.errors import LockedError
from tests.helpers import REPO

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

HOLDER = """
import sys, time
from harvester.lock import harvest_lock
with harvest_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True, cwd=str(REPO))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_is_exclusive_and_released_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "harvest.lock"
    with harvest_lock(path):
        assert lock_is_held(path)
        assert f"pid={os.getpid()}" in path.read_text()
        with pytest.raises(LockedError), harvest_lock(path):
            pass
    assert not lock_is_held(path)
    assert not path.exists()  # nothing left behind after a clean run
    with harvest_lock(path):
        pass


def test_second_process_is_refused_with_holder_pid(tmp_path: Path) -> None:
    path = tmp_path / "harvest.lock"
    proc = _hold(path, 30)
    try:
        with pytest.raises(LockedError) as err, harvest_lock(path):
            pass
        msg = str(err.value)
        assert f"pid {proc.pid}" in msg and "started 20" in msg and "--wait" in msg
    finally:
        proc.kill()
        proc.wait()


def test_wait_blocks_until_the_holder_finishes(tmp_path: Path) -> None:
    path = tmp_path / "harvest.lock"
    proc = _hold(path, 1.0)
    t0 = time.monotonic()
    with harvest_lock(path, wait=True):
        waited = time.monotonic() - t0
        # we only got it once the holder had released it (it holds for 1 s, then exits)
        assert proc.wait(timeout=10) == 0
    assert 0.5 < waited < 10


def test_lock_of_a_killed_process_never_blocks(tmp_path: Path) -> None:
    path = tmp_path / "harvest.lock"
    proc = _hold(path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path.exists()  # the file stays, but the kernel dropped the flock with the process
    assert not lock_is_held(path)
    with harvest_lock(path):
        assert f"pid={os.getpid()}" in path.read_text()


def test_wait_gives_up_when_asked_to_stop(tmp_path: Path) -> None:
    path = tmp_path / "harvest.lock"
    proc = _hold(path, 30)
    try:
        with pytest.raises(LockedError, match="stopped while waiting"), \
                harvest_lock(path, wait=True, should_stop=lambda: True):
            pass
    finally:
        proc.kill()
        proc.wait()


def test_cli_harvest_is_refused_while_locked_and_waits_with_wait(tmp_path: Path,
                                                                 eutils_server: object) -> None:
    from tests.harvester.test_harvest import fast_pubmed
    from tests.helpers import run_ketlit, write_config

    cfg = write_config(tmp_path, pubmed=fast_pubmed(eutils_server),
                       topics={"mice": {"query": "mice"}})
    lock = tmp_path / "data" / "harvest.lock"
    proc = _hold(lock, 30)
    try:
        refused = run_ketlit(["harvest"], cfg)
        assert refused.returncode == 5
        assert refused.stderr.strip() == (
            f"ketlit: another harvest is running (pid {proc.pid}, started "
            f"{refused.stderr.split('started ')[1].split(')')[0]}); wait for it or use --wait")
    finally:
        proc.kill()
        proc.wait()
    holder = _hold(lock, 1.5)
    t0 = time.monotonic()
    waited = run_ketlit(["harvest", "--wait"], cfg, timeout=120)
    assert waited.returncode == 0, waited.stderr
    assert holder.wait() == 0 and time.monotonic() - t0 >= 1.0
    assert "mice: 49 new" in waited.stdout
    assert not lock.exists()
