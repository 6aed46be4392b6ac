"""The CLI edge: typed errors become one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_ketlit, write_config


def _one_clean_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("ketlit: ")
    return lines[0]


def test_broken_config_names_the_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, pubmed={"batch_size": "lots"})
    proc = run_ketlit(["stats"], cfg)
    assert proc.returncode != 0
    assert "pubmed.batch_size" in _one_clean_line(proc.stderr)


def test_config_option_after_command_name(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, colour="blue")
    proc = run_ketlit(["stats", "--config", str(cfg)])
    assert proc.returncode != 0
    assert "colour: unknown configuration key" in _one_clean_line(proc.stderr)


def test_missing_config(tmp_path: Path) -> None:
    proc = run_ketlit(["stats"], tmp_path / "absent.yaml")
    assert proc.returncode != 0
    assert "not found" in _one_clean_line(proc.stderr)


def test_bad_date_option(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, topics={"t": {"query": "x"}})
    proc = run_ketlit(["harvest", "--since", "last tuesday"], cfg)
    assert proc.returncode != 0
    assert "--since: expected a date as YYYY-MM-DD" in _one_clean_line(proc.stderr)
