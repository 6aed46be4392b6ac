"""The CLI edge: typed errors become one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_ketlit, write_config


def _one_clean_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("ketlit: ")
    return lines[0]


@pytest.mark.slow
def test_broken_config_names_the_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, pubmed={"batch_size": "lots"})
    proc = run_ketlit(["stats"], cfg)
    assert proc.returncode != 0
    assert "pubmed.batch_size" in _one_clean_line(proc.stderr)


@pytest.mark.slow
def test_config_option_after_command_name(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, colour="blue")
    proc = run_ketlit(["stats", "--config", str(cfg)])
    assert proc.returncode != 0
    assert "colour: unknown configuration key" in _one_clean_line(proc.stderr)


@pytest.mark.slow
def test_missing_config(tmp_path: Path) -> None:
    proc = run_ketlit(["stats"], tmp_path / "absent.yaml")
    assert proc.returncode != 0
    assert "not found" in _one_clean_line(proc.stderr)


@pytest.mark.slow
def test_bad_date_option(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, topics={"t": {"query": "x"}})
    proc = run_ketlit(["harvest", "--since", "last tuesday"], cfg)
    assert proc.returncode != 0
    assert "--since: expected a date as YYYY-MM-DD" in _one_clean_line(proc.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["harvest"], ["reindex"]])
def test_a_damaged_store_stops_harvest_and_reindex_naming_the_file(tmp_path: Path,
                                                                    command: list[str]) -> None:
    from index.article import Article
    from index.store import RecordStore
    from tests.helpers import run_ketlit, write_config

    cfg = write_config(tmp_path, topics={"t": {"query": "ketamine"}},
                       pubmed={"base_url": "http://127.0.0.1:9/", "max_retries": 0})
    store_path = tmp_path / "data" / "records.sqlite3"
    with RecordStore(store_path) as s:
        s.upsert([Article(pmid=str(i), title="t " * 200) for i in range(300)], topic="t")
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(store_path.read_bytes())
    data[4096:4096 * 3] = b"\xa5" * (4096 * 2)
    store_path.write_bytes(bytes(data))
    before = store_path.read_bytes()
    proc = run_ketlit(command, cfg)
    assert proc.returncode == 7, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "records.sqlite3 is damaged" in lines[0]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert store_path.read_bytes() == before  # nothing written to it


@pytest.mark.slow
def test_a_malformed_alert_query_is_a_config_error_naming_the_alert(tmp_path: Path) -> None:
    from tests.helpers import run_ketlit, write_config

    cfg = write_config(tmp_path, topics={"t": {"query": "ketamine"}},
                       alerts={"trials": {"query": "esketamine AND (trial[pt]", "topic": "t"}})
    proc = run_ketlit(["stats"], cfg)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "alerts.trials.query" in proc.stderr
    assert "unbalanced parenthesis" in proc.stderr
