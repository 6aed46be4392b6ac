"""Issue 6, "Done when": the nightly machinery with real processes.

Every test runs the installed ``ketlit`` console script as a subprocess against the loopback
E-utilities server (tests/eutils_server.py, serving the shared real PubMed records in a thread
of this process), so signals, locks, exit codes and files are the real ones. In place of the
nightly cron the schedule gets a 6-field expression (seconds first) that fires within seconds.

The ground truth for "the index is complete" is the server's own query evaluation
(``db.pmids_matching``) compared with the record store's PMIDs per topic.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harvester.lock import lock_is_held
from index.settings import Settings, load_settings
from index.store import RecordStore
from tests.eutils_server import EutilsServer, RecordDB
from tests.helpers import REPO, ketlit_executable, run_ketlit, write_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

TOPICS = {"cancer": {"query": "cancer", "label": "Cancer"}, "brain": {"query": "brain"}}
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\[\d+\] [\w.]+: \S.*$")


# -- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[EutilsServer]:
    # A fresh database per test: tests add records to it.
    with EutilsServer(RecordDB.from_shared()) as srv:
        yield srv


def make_config(tmp_path: Path, srv: EutilsServer, *, slow: bool = False, **sections: Any) -> Path:
    """``slow``: small batches at 4 requests/s, so a first harvest takes several seconds (long
    enough to be signalled, killed or met by a second harvest half-way)."""
    rate, batch = (4, 10) if slow else (100, 50)
    pubmed = {"base_url": srv.base_url, "requests_per_second": rate, "batch_size": batch,
              "backoff_base_s": 0.05, "backoff_max_s": 0.2, "max_retries": 3, "timeout_s": 10}
    return write_config(tmp_path, pubmed=pubmed, **{"topics": TOPICS, **sections})


def store_pmids(settings: Settings, topic: str | None = None) -> set[str]:
    if not settings.store_path.exists():
        return set()
    with RecordStore(settings.store_path) as store:
        return store.pmids(topic)


def assert_complete(settings: Settings, srv: EutilsServer) -> None:
    for name, topic in settings.topics.items():
        truth = set(srv.db.pmids_matching(topic.query))
        have = store_pmids(settings, name)
        assert have == truth, (f"{name}: {len(truth - have)} missing, {len(have - truth)} extra")


def popen_ketlit(args: list[str], config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "KETLIT_DEBUG"}
    return subprocess.Popen([*ketlit_executable(), "--config", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(REPO), env=env)


def wait_for(cond: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)
    return time.monotonic() - t0


def log_text(settings: Settings) -> str:
    path = settings.logs_dir / "ketlit.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def assert_readable_log(settings: Settings) -> list[str]:
    lines = log_text(settings).splitlines()
    assert lines, "the log is empty"
    bad = [ln for ln in lines if not LOG_LINE.match(ln)]
    assert not bad, f"unreadable log lines: {bad[:3]}"
    assert "Traceback" not in log_text(settings)
    return lines


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM,
         timeout: float = 10) -> tuple[float, str, str]:
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return time.monotonic() - t0, out, err


def committed_some(settings: Settings) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return len(store_pmids(settings)) >= 30
        except Exception:  # the database may be mid-creation
            return False
    return check


def add_new_records(srv: EutilsServer, n_per_topic: int = 3, start: int = 90_000_000) -> dict[str, set[str]]:
    """Clones of existing records with today's create date, as PubMed adds records every day."""
    new: dict[str, set[str]] = {}
    pmid = start
    for name, topic in TOPICS.items():
        sources = srv.db.pmids_matching(topic["query"])[:n_per_topic]
        for src in sources:
            pmid += 1
            srv.db.add_clone(src, str(pmid), crdt=date.today())
            new.setdefault(name, set()).add(str(pmid))
    return new


# -- the tests --------------------------------------------------------------------------------------


def test_schedule_fires_on_a_fast_trigger_harvests_and_writes_the_digest(
        tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server)
    run_ketlit(["harvest"], cfg, check=True, timeout=60)
    settings = load_settings(cfg)
    assert_complete(settings, server)
    new = add_new_records(server)
    time.sleep(1.1)  # first_seen has one-second resolution

    # Fire once a day at a second a few seconds from now: the trigger (not catch-up, since the
    # harvest above is newer than the previous fire time, yesterday) must start the run.
    fire = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    cfg = make_config(tmp_path, server, schedule={
        "cron": f"{fire.second} {fire.minute} {fire.hour} * * *", "timezone": "UTC"})
    proc = popen_ketlit(["schedule"], cfg)
    try:
        # The digest is written after the "finished" line: wait for both before stopping.
        wait_for(lambda: "scheduled harvest finished" in log_text(settings)
                 and len(list(settings.digests_dir.glob("*.md"))) == 2, 40,
                 "the scheduled harvest and its digest")
    finally:
        elapsed, out, err = stop(proc)
    assert proc.returncode == 0, err
    assert elapsed < 5
    assert_complete(settings, server)
    assert new["cancer"] | new["brain"] <= store_pmids(settings)

    lines = assert_readable_log(settings)
    text = "\n".join(lines)
    assert "catching up" not in text
    started = next(ln for ln in lines if "schedule started" in ln)
    assert f"cron '{fire.second} {fire.minute} {fire.hour} * * *'" in started
    with RecordStore(settings.store_path) as store:
        last_start = datetime.fromisoformat(store.get_meta("last_harvest_started") or "")
    assert last_start >= fire, "the harvest ran before its fire time"
    # The signal may land while the job is still writing its digest after "finished", which
    # the scheduler reports as "(SIGTERM during a harvest)"; either way it stopped on SIGTERM.
    assert "schedule stopped (SIGTERM" in text

    # One digest by the manual harvest, one by the scheduled run.
    digests = sorted(settings.digests_dir.glob("*.md"), key=lambda p: p.stat().st_mtime)
    assert len(digests) == 2, digests
    listed = set(re.findall(r"\[PMID (\d+)\]", digests[-1].read_text()))
    assert listed == new["cancer"] | new["brain"]


def test_catch_up_on_start_when_the_last_success_is_stale(tmp_path: Path,
                                                           server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, schedule={"cron": "0 0 * * *"})
    run_ketlit(["harvest"], cfg, check=True, timeout=60)
    settings = load_settings(cfg)
    new = add_new_records(server, n_per_topic=2)
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    with RecordStore(settings.store_path) as store:  # as if the machine had been off since
        for topic in settings.topics:
            store.set_checkpoint(topic, last_success=two_days_ago)

    proc = popen_ketlit(["schedule"], cfg)
    try:
        took = wait_for(lambda: "scheduled harvest finished" in log_text(settings), 30,
                        "the catch-up harvest")
    finally:
        _, _, err = stop(proc)
    assert proc.returncode == 0, err
    assert took < 20
    text = log_text(settings)
    assert "catching up now: the last successful harvest" in text
    assert new["cancer"] | new["brain"] <= store_pmids(settings)
    assert_complete(settings, server)


def test_fast_trigger_repeats_and_a_failed_run_is_retried_at_the_next_fire(
        tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, schedule={"cron": "*/3 * * * * *"})
    settings = load_settings(cfg)
    # The first (catch-up) run finds PubMed down; the schedule must log it and go on.
    server.set_faults(1.0, ["http5xx"])
    proc = popen_ketlit(["schedule"], cfg)
    try:
        wait_for(lambda: "scheduled harvest failed" in log_text(settings)
                 or "finished with failures" in log_text(settings), 30, "the failed run")

        def stats_shows_failure() -> bool:
            data = json.loads(run_ketlit(["stats", "--json"], cfg, check=True).stdout)
            return any(r["status"] == "failed" and r["error"] for r in data["last_runs"].values())

        # `ketlit stats` shows the failure (a retry may be running at the moment we ask).
        wait_for(stats_shows_failure, 20, "stats to show the failed run", poll=0.2)
        server.set_faults(0.0)
        wait_for(lambda: "scheduled harvest finished; next run" in log_text(settings), 30,
                 "a successful run at a later fire time")
        assert proc.poll() is None, "a failed run must not end the schedule"
    finally:
        _, _, err = stop(proc)
    assert proc.returncode == 0, err
    assert_complete(settings, server)
    stats = json.loads(run_ketlit(["stats", "--json"], cfg, check=True).stdout)
    assert stats["total"] == len(store_pmids(settings))
    with RecordStore(settings.store_path) as store:
        statuses = [r.status for r in store.runs(200)]
    # The run log keeps the failure, and a later run succeeded (the newest may be one the stop
    # interrupted: the trigger fires every 3 s).
    assert "failed" in statuses and "ok" in statuses
    assert statuses.index("ok") < statuses.index("failed")
    assert_readable_log(settings)


def test_second_harvest_is_refused_and_wait_waits(tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, slow=True)
    settings = load_settings(cfg)
    first = popen_ketlit(["harvest"], cfg)
    try:
        wait_for(lambda: lock_is_held(settings.lock_path), 15, "the first harvest to lock")
        refused = run_ketlit(["harvest"], cfg, timeout=30)
        assert refused.returncode == 5
        lines = [ln for ln in refused.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in refused.stderr
        assert lines[0].startswith("ketlit: another harvest is running (pid ")
        assert f"pid {first.pid}" in lines[0] and "--wait" in lines[0]

        waiter = popen_ketlit(["harvest", "--wait"], cfg)
        time.sleep(0.5)
        assert waiter.poll() is None and first.poll() is None
        out, err = waiter.communicate(timeout=90)
        assert waiter.returncode == 0, err
        assert first.poll() is not None, "--wait returned before the first harvest finished"
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert first.returncode == 0
    assert_complete(settings, server)
    assert "harvest refused: another harvest is running" in log_text(settings)


def test_scheduled_run_meets_a_manual_harvest_and_is_skipped_not_fatal(
        tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, slow=True, schedule={"cron": "0 0 * * *"})
    settings = load_settings(cfg)
    manual = popen_ketlit(["harvest"], cfg)
    sched = None
    try:
        wait_for(lambda: lock_is_held(settings.lock_path), 15, "the manual harvest to lock")
        sched = popen_ketlit(["schedule"], cfg)  # catch-up at once: no harvest ever completed
        wait_for(lambda: "scheduled harvest skipped: another harvest is running" in
                 log_text(settings), 20, "the skipped scheduled run")
        assert sched.poll() is None
        assert manual.poll() is None
    finally:
        if sched is not None:
            _, _, err = stop(sched)
            assert sched.returncode == 0, err
        stop(manual)
    assert manual.returncode == 0


def test_killed_harvest_leaves_no_blocking_lock_and_the_next_run_completes(
        tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, slow=True)
    settings = load_settings(cfg)
    proc = popen_ketlit(["harvest"], cfg)
    wait_for(committed_some(settings), 30, "some committed records")
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert len(store_pmids(settings)) > 0

    t0 = time.monotonic()
    nxt = run_ketlit(["harvest"], cfg, timeout=90)
    assert nxt.returncode == 0, nxt.stderr
    assert time.monotonic() - t0 < 60
    assert_complete(settings, server)
    with RecordStore(settings.store_path) as store:
        assert "interrupted" in [r.status for r in store.runs(50)]  # the killed run, closed


def test_sigterm_mid_harvest_exits_0_quickly_and_the_next_run_completes_exactly(
        tmp_path: Path, server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, slow=True)
    settings = load_settings(cfg)
    proc = popen_ketlit(["harvest"], cfg)
    wait_for(committed_some(settings), 30, "some committed records")
    elapsed, out, err = stop(proc)
    assert proc.returncode == 0, err
    assert elapsed < 5, f"took {elapsed:.1f}s to stop"
    assert "interrupted" in out
    assert not lock_is_held(settings.lock_path)
    partial = store_pmids(settings)
    truth = {p for t in settings.topics.values() for p in server.db.pmids_matching(t.query)}
    assert 0 < len(partial) < len(truth)

    nxt = run_ketlit(["harvest"], cfg, timeout=90)
    assert nxt.returncode == 0, nxt.stderr
    assert_complete(settings, server)
    assert "interrupted" in log_text(settings)
    assert_readable_log(settings)


def test_sigterm_during_a_scheduled_harvest_stops_the_schedule(tmp_path: Path,
                                                                server: EutilsServer) -> None:
    cfg = make_config(tmp_path, server, slow=True, schedule={"cron": "*/2 * * * * *"})
    settings = load_settings(cfg)
    proc = popen_ketlit(["schedule"], cfg)  # catch-up harvest at once
    wait_for(committed_some(settings), 30, "some committed records")
    elapsed, _, err = stop(proc)
    assert proc.returncode == 0, err
    assert elapsed < 5, f"took {elapsed:.1f}s to stop"
    text = log_text(settings)
    assert "schedule stopped (SIGTERM during a harvest)" in text
    # No second run was started after the signal, though the trigger fires every 2 s.
    assert text.count("full harvest") <= len(settings.topics)
    nxt = run_ketlit(["harvest"], cfg, timeout=90)
    assert nxt.returncode == 0, nxt.stderr
    assert_complete(settings, server)


def test_digest_and_new_list_exactly_the_records_new_since_the_previous_harvest(
        tmp_path: Path, server: EutilsServer) -> None:
    alerts = {"brain-reviews": {"query": "review[pt]", "topic": "brain"},
              "all-brain": {"query": "brain"}}
    cfg = make_config(tmp_path, server, alerts=alerts)
    settings = load_settings(cfg)
    first = run_ketlit(["harvest"], cfg, check=True, timeout=60)
    assert "digest: " in first.stdout  # the first run's records are new too
    new = add_new_records(server, n_per_topic=4)
    time.sleep(1.1)  # first_seen has one-second resolution
    second = run_ketlit(["harvest"], cfg, check=True, timeout=60)
    digest_path = Path(second.stdout.split("digest: ", 1)[1].split()[0])
    assert digest_path.parent == settings.digests_dir
    assert digest_path.name.endswith("-2.md")  # the first run's digest of the same day is kept
    text = digest_path.read_text()
    sections = dict(re.findall(r"^## (.+?): \d+ new\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    pmids = {k: set(re.findall(r"\[PMID (\d+)\]", v)) for k, v in sections.items()}
    every_new = new["cancer"] | new["brain"]
    # A clone of a record matching both queries is new to both topics: the truth is the server's.
    cancer_truth = set(server.db.pmids_matching("cancer"))
    brain_truth = set(server.db.pmids_matching("brain"))
    reviews = set(server.db.pmids_matching("review[pt]"))
    assert pmids["Cancer (cancer)"] == every_new & cancer_truth
    assert pmids["brain"] == every_new & brain_truth
    assert new["brain"] <= pmids["brain"] and new["cancer"] <= pmids["Cancer (cancer)"]
    # A saved search is the local search (not PubMed's) run over the new records.
    def local(query: str, *topic: str) -> set[str]:
        args = ["search", query, "--limit", "10000", "--json"]
        for t in topic:
            args += ["--topic", t]
        return {r["pmid"] for r in json.loads(run_ketlit(args, cfg, check=True).stdout)["results"]}

    assert pmids["Saved search all-brain"] == every_new & local("brain")
    assert pmids["Saved search brain-reviews"] == every_new & local("review[pt]", "brain")
    assert pmids["Saved search all-brain"], "the test needs new records that match the alert"
    assert pmids["Saved search brain-reviews"] <= reviews

    out = run_ketlit(["new", "--json"], cfg, check=True)
    data = json.loads(out.stdout)
    assert data["total"] == len(every_new)
    assert {r["pmid"] for r in data["results"]} == every_new
    out = run_ketlit(["new", "--topic", "cancer", "--json"], cfg, check=True)
    assert {r["pmid"] for r in json.loads(out.stdout)["results"]} == every_new & cancer_truth
    # --since a date: everything that entered the index that day, i.e. both runs.
    out = run_ketlit(["new", "--since", date.today().isoformat(), "--json"], cfg, check=True)
    assert json.loads(out.stdout)["total"] == len(store_pmids(settings))
