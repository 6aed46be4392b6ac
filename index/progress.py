"""Progress of long work (harvest, ingest, reindex, export, embedding), reported through a small
interface passed explicitly to the code doing the work: no globals, and the library never decides
by itself whether to draw anything.

- ``Progress.task(label, total)`` opens a counter (a context manager) that the work advances by
  the records it finishes; ``total`` may be None (unknown) or set later.
- ``Progress.note(message)`` says one line about the work: a wait explaining itself ("PubMed
  unreachable, try 3 of 7 in 8 s"), a window starting. It never replaces the log: callers log as
  before, and ``live`` tells them a terminal shows the line already (so the log's own stderr
  echo can be skipped).

``NullProgress`` draws nothing (non-terminals, ``--quiet``, the scheduler, tests).
``TerminalProgress`` draws a live line with tqdm on a terminal's stderr: records done, total when
known, rate and ETA. tqdm rather than rich: one small pure-Python dependency that does exactly
this (rate and ETA smoothing, redrawing at most every 0.2 s, ``tqdm.write`` printing a note above
the bar without tearing it), where rich would bring a console-rendering framework for one line.
"""

from __future__ import annotations

import shutil
import sys
from types import TracebackType
from typing import IO, Any, Protocol


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def set_total(self, total: int | None) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Task: ...

    def __exit__(self, *exc: object) -> None: ...


class Progress(Protocol):
    live: bool  # True when a person is watching the lines (a terminal)

    def task(self, label: str, total: int | None = None, unit: str = "records") -> Task: ...

    def note(self, message: str) -> None: ...


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NullTask:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class NullProgress:
    """Reports nothing."""

    live = False

    def task(self, label: str, total: int | None = None, unit: str = "records") -> Task:
        return _NullTask()

    def note(self, message: str) -> None:
        pass


class _TqdmTask:
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_total(self, total: int | None) -> None:
        self.bar.total = total
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> _TqdmTask:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class TerminalProgress:
    """Live progress lines on ``stream`` (a terminal's stderr)."""

    live = True

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr

    def task(self, label: str, total: int | None = None, unit: str = "records") -> Task:
        from tqdm import tqdm

        # A terminal that reports no size (a fresh pseudo-terminal, some `docker exec -t`)
        # would make tqdm's own probe hide the line (0 rows): shutil falls back to 100x24.
        size = shutil.get_terminal_size((100, 24))
        bar = tqdm(total=total, desc=label, unit=f" {unit}", file=self.stream, leave=True,
                   ncols=size.columns, nrows=max(size.lines, 2), mininterval=0.2,
                   smoothing=0.1)
        return _TqdmTask(bar)

    def note(self, message: str) -> None:
        from tqdm import tqdm

        tqdm.write(message, file=self.stream)


def progress_for(stream: IO[str] | None = None, *, quiet: bool = False) -> Progress:
    """A terminal's progress when ``stream`` (default stderr) is a terminal and not ``quiet``;
    else one that reports nothing."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return NullProgress()
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return TerminalProgress(stream) if tty else NullProgress()


def as_progress(value: Progress | bool | None) -> Progress:
    """Callers that still pass ``progress=True/False`` get a terminal's progress or none."""
    if value is None or value is False:
        return NullProgress()
    if value is True:
        return progress_for()
    return value
