"""Create-date windows for walking PubMed by date (pure: no I/O, no clock).

PubMed's esearch returns at most the first 9,999 ids of a query (``retstart + retmax`` <= 10,000),
so a topic larger than that cannot be listed in one query. We slice it by *create* date
(``datetype=edat``) because a record has exactly one Entrez date: the slices are disjoint and
their union is the whole topic. Publication-date (``[dp]``) slices overlap, since PubMed indexes
both the print and the electronic date of a record, so a record would land in two slices while a
record with an odd date could fall between them.

A window whose Count reaches the cap is split in two halves until every window is under it; the
harvester walks windows oldest first, so "every window up to date D is done" is the whole
resumable position of a full walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# PubMed's oldest citations (OLDMEDLINE) carry dates back to 1781, and for such back-filled records
# the Entrez date is set to the publication date. Starting the first window there (not at 1946,
# MEDLINE's usual start, nor at 1966) covers every record; an early start costs one esearch at
# most, because an empty or small old range is never split.
HISTORY_START = date(1781, 1, 1)


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive range of days [start, end]."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start} > {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def mindate(self) -> str:
        """E-utilities' date format (YYYY/MM/DD)."""
        return self.start.strftime("%Y/%m/%d")

    @property
    def maxdate(self) -> str:
        return self.end.strftime("%Y/%m/%d")

    def can_split(self) -> bool:
        return self.days > 1

    def split(self) -> tuple[Window, Window]:
        """Two halves, older first. A single day cannot be split (ValueError)."""
        if not self.can_split():
            raise ValueError(f"a single day ({self.start}) cannot be split")
        mid = self.start + timedelta(days=self.days // 2 - 1)
        return Window(self.start, mid), Window(mid + timedelta(days=1), self.end)

    def __str__(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def to_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]

    @classmethod
    def from_json(cls, value: list[str]) -> Window:
        return cls(date.fromisoformat(value[0]), date.fromisoformat(value[1]))


def full_history(today: date) -> Window:
    """The whole of PubMed's history up to today."""
    return Window(HISTORY_START, today)


def remaining(window: Window, done_through: date | None) -> Window | None:
    """What is left of ``window`` when every day up to ``done_through`` is complete."""
    if done_through is None or done_through < window.start:
        return window
    if done_through >= window.end:
        return None
    return Window(done_through + timedelta(days=1), window.end)


def incremental_window(last_date: date, overlap_days: int, today: date,
                       since: date | None = None) -> Window:
    """The create/modification-date window of a normal run.

    It starts ``overlap_days`` before the last completed day because PubMed's dates lag (a record
    may be indexed a day or two after the date it carries, and EDAT can be back-dated); upserts
    make re-reading the overlap harmless. ``since`` (``--since``) overrides the start.
    """
    start = since if since is not None else last_date - timedelta(days=overlap_days)
    start = max(HISTORY_START, min(start, today))
    return Window(start, today)


class WindowWalk:
    """Oldest-first walk over a window, splitting windows that the caller reports as too big.

    Pure bookkeeping: the harvester asks ``next()`` for a window, runs esearch, and either calls
    ``split(w)`` (Count at or over the cap) or processes it and calls ``done(w)``.
    ``done_through`` is then the resumable position.
    """

    def __init__(self, window: Window | None) -> None:
        self._stack: list[Window] = [window] if window is not None else []
        self.done_through: date | None = None
        self.windows_done = 0

    def next(self) -> Window | None:
        return self._stack[-1] if self._stack else None

    def split(self, window: Window) -> tuple[Window, Window]:
        top = self._stack.pop()
        assert top == window, "split() must be called on the window next() returned"
        older, newer = window.split()
        self._stack.append(newer)
        self._stack.append(older)
        return older, newer

    def done(self, window: Window) -> None:
        top = self._stack.pop()
        assert top == window, "done() must be called on the window next() returned"
        self.done_through = window.end
        self.windows_done += 1
