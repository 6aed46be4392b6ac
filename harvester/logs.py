"""Logging for harvests and the schedule: one readable line per event in data_dir/logs/ketlit.log.

Nobody watches a nightly job, so the log file is what a person reads the morning after: each
line says when, how bad, which process, which part, and what happened in words
(``2026-11-27 02:30:04 INFO    [4711] ketlit.harvest: topic depression done: 12 new, 3 updated``).

The file rotates by size (``ketlit.log``, ``ketlit.log.1`` ... ``ketlit.log.N``). A scheduled
harvest and a manual ``ketlit harvest`` may both write to it; a process whose file was rotated
away by the other reopens the current file before its next line instead of writing into the
renamed one (the check WatchedFileHandler makes, on top of RotatingFileHandler).

Lines also go to stderr when stderr is a terminal (or with ``verbose``); under systemd or cron
the file (and the journal, via the CLI's own error line) is the record.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from index.settings import Settings

LOG_FILE = "ketlit.log"
MAX_BYTES = 1_000_000      # about 8,000 lines: a few months of nightly runs per file
BACKUP_COUNT = 5
LINE_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Marks the handlers this module installed, so that calling setup_logging again (tests, or
# harvest then schedule in one process) replaces them instead of doubling every line.
_OWNED = "_ketlit_owned"


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler that notices when another process rotated the file away."""

    def __init__(self, filename: Path, max_bytes: int, backup_count: int) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backup_count,
                         encoding="utf-8", delay=True)
        self._ino: tuple[int, int] | None = None

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        st = os.fstat(stream.fileno())
        self._ino = (st.st_dev, st.st_ino)
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None:
            try:
                st = os.stat(self.baseFilename)
                current: tuple[int, int] | None = (st.st_dev, st.st_ino)
            except FileNotFoundError:
                current = None
            if current != self._ino:
                self.stream.close()
                self.stream = None  # type: ignore[assignment]
        super().emit(record)


FILE_ONLY = {"file_only": True}  # ``log.error(..., extra=FILE_ONLY)``: the caller prints it itself


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def log_path(settings: Settings) -> Path:
    return settings.logs_dir / LOG_FILE


def setup_logging(settings: Settings, verbose: bool = False, *, max_bytes: int = MAX_BYTES,
                  backup_count: int = BACKUP_COUNT, to_stderr: bool | None = None,
                  stderr_level: int = logging.NOTSET) -> Path:
    """Send ketlit's log lines to data_dir/logs/ketlit.log (rotating) and maybe stderr.

    ``ketlit.*`` loggers log at INFO (DEBUG with ``verbose``); other libraries (APScheduler,
    urllib3) only at WARNING, which is where their misfire and connection warnings are.
    ``to_stderr`` defaults to "stderr is a terminal, or verbose"; ``stderr_level`` lets a command
    that prints its own progress (``ketlit harvest``) send only warnings and errors there.
    Returns the log file's path.
    """
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(LINE_FORMAT, DATE_FORMAT)

    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _OWNED, False):
            root.removeHandler(h)
            h.close()

    file_handler = SharedRotatingFileHandler(path, max_bytes, backup_count)
    file_handler.setFormatter(formatter)
    setattr(file_handler, _OWNED, True)
    root.addHandler(file_handler)

    if to_stderr is None:
        to_stderr = verbose or sys.stderr.isatty()
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(formatter)
        err.setLevel(logging.DEBUG if verbose else stderr_level)
        err.addFilter(_not_file_only)
        setattr(err, _OWNED, True)
        root.addHandler(err)

    root.setLevel(logging.WARNING)
    logging.getLogger("ketlit").setLevel(logging.DEBUG if verbose else logging.INFO)
    return path
