"""Progress on long work: live lines on a terminal (seen through a pseudo-terminal, as a user's
shell would show them), nothing on a pipe or with --quiet; the reporter itself."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from index.progress import NullProgress, TerminalProgress, as_progress, progress_for
from tests.helpers import REPO, ketlit_executable, write_config

pytestmark = pytest.mark.slow


def _run_on_terminal(args: list[str], *, tty: bool) -> tuple[int, str, str]:
    """Run ketlit with stderr on a pseudo-terminal (tty=True) or a pipe; (rc, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "KETLIT_DEBUG"}
    env["COLUMNS"] = "120"
    if not tty:
        proc = subprocess.run([*ketlit_executable(), *args], capture_output=True, text=True,
                              env=env, cwd=str(REPO), timeout=300)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([*ketlit_executable(), *args], stdout=subprocess.PIPE,
                                stderr=slave, env=env, cwd=str(REPO))
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read().decode() if proc.stdout else ""
        rc = proc.wait(timeout=300)
    finally:
        os.close(master)
    return rc, out, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def config(tmp_path: Path, indexed_settings) -> Path:
    """A data directory holding a copy of the shared sample's record store (390+ records)."""
    import sqlite3

    cfg = write_config(tmp_path, topics={t: {"query": t} for t in ("depression", "ptsd", "ocd")})
    (tmp_path / "data").mkdir()
    src = sqlite3.connect(indexed_settings.store_path)
    dst = sqlite3.connect(tmp_path / "data" / "records.sqlite3")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return cfg


def test_reindex_shows_progress_on_a_terminal_only(config: Path) -> None:
    rc, out, err = _run_on_terminal(["--config", str(config), "reindex"], tty=True)
    assert rc == 0, err
    n = int(re.search(r"reindexed (\d+) record", out).group(1))
    assert n > 300
    # records done of the total, the rate and the ETA, redrawn in place
    assert re.search(rf"reindex: 100%.*\b{n}/{n}\b.*records/s", err), err[-500:]
    assert "\r" in err
    rc, out, err = _run_on_terminal(["--config", str(config), "reindex"], tty=False)
    assert rc == 0 and "reindexed" in out and err == ""
    rc, out, err = _run_on_terminal(["--config", str(config), "reindex", "--quiet"], tty=True)
    assert rc == 0 and "reindex:" not in err and "records/s" not in err


def test_ingest_shows_progress_on_a_terminal_only(tmp_path: Path, efetch_files: list) -> None:
    cfg = write_config(tmp_path, topics={"ptsd": {"query": "ketamine AND ptsd"}})
    src = efetch_files[0]
    rc, out, err = _run_on_terminal(["--config", str(cfg), "ingest", str(src)], tty=True)
    assert rc == 0, err
    assert re.search(rf"ingest {re.escape(src.name)}: \d+ records \[.*records/s\]", err), err
    rc, out, err = _run_on_terminal(["--config", str(cfg), "ingest", str(src)], tty=False)
    assert rc == 0 and "records/s" not in err and "ingest " not in err


def test_reporters() -> None:
    stream = io.StringIO()
    assert isinstance(progress_for(stream), NullProgress)  # not a terminal
    assert isinstance(as_progress(False), NullProgress) and isinstance(as_progress(None),
                                                                       NullProgress)
    live = TerminalProgress(stream)
    with live.task("export", 3) as task:
        task.advance(2)
        live.note("rate limit: 3 requests/s without an API key")
        task.advance()
    text = stream.getvalue()
    assert "rate limit: 3 requests/s without an API key\n" in text
    assert re.search(r"export: 100%.*3/3", text)
    with NullProgress().task("x") as t:
        t.advance(5)


def test_harvest_shows_windows_waits_and_warns_once_about_the_email(tmp_path: Path,
                                                                    eutils_server) -> None:
    cfg = write_config(tmp_path, topics={"thyroid": {"query": "thyroid OR hypothyroidism"}},
                       pubmed={"base_url": eutils_server.base_url, "batch_size": 10,
                               "timeout_s": 5, "backoff_base_s": 0.01, "max_retries": 4,
                               "requests_per_second": 20})
    eutils_server.fail_next(1, "http5xx")
    rc, out, err = _run_on_terminal(["--config", str(cfg), "harvest"], tty=True)
    assert rc == 0, err
    assert "rate limit: 20 requests/s (pubmed.requests_per_second)" in err
    assert re.search(r"PubMed answered with an error, try 2 of 5 in \d+ s", err), err
    assert re.search(r"thyroid \S+: 100%.*\b(\d+)/\1\b.*records/s", err), err
    assert err.count("pubmed.email is not set") == 1
    assert "NCBI asks every tool for a contact address" in err
    log = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("*.log"))
    assert "\r" not in log and "records/s" not in log and "% |" not in log
    assert "rate limit: 20 requests/s" in log
    rc, out, err = _run_on_terminal(["--config", str(cfg), "harvest"], tty=False)
    assert rc == 0 and "records/s" not in err and "\r" not in err


def test_export_shows_progress_on_a_terminal_only(config: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "all.ris"
    args = ["--config", str(config), "export", "--format", "ris", "-o", str(out_file)]
    rc, _out, err = _run_on_terminal(args, tty=True)
    assert rc == 0, err
    assert re.search(r"export: 100%.*\b(\d+)/\1\b.*records/s", err), err
    rc, _out, err = _run_on_terminal(args, tty=False)
    assert rc == 0 and "records/s" not in err
