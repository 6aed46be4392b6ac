from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.logs import setup_logging
from index.settings import settings_from_mapping

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR|DEBUG)\s+\[\d+\] ketlit\.\w+: .+$")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_one_readable_line_per_event(tmp_path: Path, restore_logging: None) -> None:
    s = settings_from_mapping({}, tmp_path)
    path = setup_logging(s, to_stderr=False)
    assert path == tmp_path / "ketlit-data" / "logs" / "ketlit.log"
    logging.getLogger("ketlit.harvest").info("topic %s done: %d new, %d updated", "ocd", 3, 1)
    logging.getLogger("ketlit.eutils").warning("retry 1/6 in 2.0 s: HTTP 429 rate limit")
    logging.getLogger("ketlit.harvest").debug("not shown without verbose")
    logging.getLogger("urllib3.connectionpool").info("library chatter stays out")
    lines = path.read_text().splitlines()
    assert len(lines) == 2, lines
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0].endswith("ketlit.harvest: topic ocd done: 3 new, 1 updated")
    assert "WARNING" in lines[1] and "HTTP 429" in lines[1]


def test_setting_up_twice_does_not_double_lines(tmp_path: Path, restore_logging: None) -> None:
    s = settings_from_mapping({}, tmp_path)
    setup_logging(s, to_stderr=False)
    path = setup_logging(s, verbose=True, to_stderr=False)
    logging.getLogger("ketlit.schedule").debug("once")
    assert path.read_text().count("once") == 1


def test_rotation_keeps_backup_count_files(tmp_path: Path, restore_logging: None) -> None:
    s = settings_from_mapping({}, tmp_path)
    path = setup_logging(s, max_bytes=2000, backup_count=3, to_stderr=False)
    log = logging.getLogger("ketlit.harvest")
    for i in range(200):
        log.info("event %04d %s", i, "x" * 40)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["ketlit.log", "ketlit.log.1", "ketlit.log.2", "ketlit.log.3"]
    for p in path.parent.iterdir():
        assert p.stat().st_size <= 2000
    # The newest lines are in ketlit.log, each file holds whole lines, nothing is interleaved.
    assert "event 0199" in path.read_text()
    for p in path.parent.iterdir():
        assert all(LINE.match(line) for line in p.read_text().splitlines())


def test_a_file_rotated_away_by_another_process_is_reopened(tmp_path: Path,
                                                           restore_logging: None) -> None:
    s = settings_from_mapping({}, tmp_path)
    path = setup_logging(s, to_stderr=False)
    log = logging.getLogger("ketlit.harvest")
    log.info("before")
    path.rename(path.with_name("ketlit.log.1"))  # what the other process's rollover does
    log.info("after")
    assert path.read_text().strip().endswith("after")
    assert "after" not in path.with_name("ketlit.log.1").read_text()
