"""Date windows: splitting stays under the cap, covers every day exactly once, oldest first."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from harvester.windows import (
    HISTORY_START,
    Window,
    WindowWalk,
    full_history,
    incremental_window,
    remaining,
)


def test_history_starts_no_later_than_pubmeds_oldest_records() -> None:
    assert date(1781, 1, 1) >= HISTORY_START
    assert full_history(date(2026, 1, 2)) == Window(HISTORY_START, date(2026, 1, 2))


def test_split_halves_are_disjoint_adjacent_and_older_first() -> None:
    w = Window(date(2020, 1, 1), date(2020, 1, 10))
    older, newer = w.split()
    assert older == Window(date(2020, 1, 1), date(2020, 1, 5))
    assert newer == Window(date(2020, 1, 6), date(2020, 1, 10))
    odd = Window(date(2020, 1, 1), date(2020, 1, 3))
    a, b = odd.split()
    assert a.end + timedelta(days=1) == b.start and a.start == odd.start and b.end == odd.end
    two = Window(date(2020, 1, 1), date(2020, 1, 2))
    assert two.split() == (Window(date(2020, 1, 1), date(2020, 1, 1)),
                           Window(date(2020, 1, 2), date(2020, 1, 2)))


def test_single_day_cannot_split() -> None:
    day = Window(date(2021, 5, 5), date(2021, 5, 5))
    assert not day.can_split()
    with pytest.raises(ValueError, match="2021-05-05"):
        day.split()
    with pytest.raises(ValueError):
        Window(date(2021, 5, 6), date(2021, 5, 5))


def test_eutils_date_format_and_json_round_trip() -> None:
    w = Window(date(2019, 3, 4), date(2019, 12, 31))
    assert (w.mindate, w.maxdate) == ("2019/03/04", "2019/12/31")
    assert Window.from_json(w.to_json()) == w
    assert str(w) == "2019-03-04..2019-12-31"


def _walk(window: Window, records: list[date], cap: int) -> list[Window]:
    """Drive WindowWalk the way the harvester does, with a fake esearch Count."""
    walk = WindowWalk(window)
    done: list[Window] = []
    while (w := walk.next()) is not None:
        count = sum(1 for d in records if w.start <= d <= w.end)
        if count >= cap:
            walk.split(w)
            continue
        walk.done(w)
        done.append(w)
        assert walk.done_through == w.end
    return done


def test_walk_covers_every_day_once_and_every_window_is_under_the_cap() -> None:
    rng = random.Random(7)
    start, end = date(2000, 1, 1), date(2026, 11, 27)
    span = (end - start).days
    # dense years and empty ones, like PubMed's growth
    records = [start + timedelta(days=int(span * rng.random() ** 0.3)) for _ in range(3000)]
    cap = 30
    done = _walk(Window(start, end), records, cap)
    assert done[0].start == start and done[-1].end == end
    for a, b in zip(done, done[1:], strict=False):
        assert a.end + timedelta(days=1) == b.start  # oldest first, no gap, no overlap
    for w in done:
        assert sum(1 for d in records if w.start <= d <= w.end) < cap
    assert sum(sum(1 for d in records if w.start <= d <= w.end) for w in done) == len(records)


def test_remaining_resumes_after_the_last_completed_day() -> None:
    w = Window(date(2020, 1, 1), date(2020, 12, 31))
    assert remaining(w, None) == w
    assert remaining(w, date(2019, 12, 31)) == w
    assert remaining(w, date(2020, 6, 30)) == Window(date(2020, 7, 1), date(2020, 12, 31))
    assert remaining(w, date(2020, 12, 31)) is None


def test_incremental_window_overlaps_and_since_overrides() -> None:
    today = date(2026, 11, 27)
    assert incremental_window(date(2026, 11, 20), 3, today) == Window(date(2026, 11, 17), today)
    assert incremental_window(date(2026, 11, 27), 0, today) == Window(today, today)
    assert incremental_window(date(2026, 11, 20), 3, today, since=date(2025, 1, 1)) == Window(
        date(2025, 1, 1), today)
