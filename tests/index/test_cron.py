from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from index.cron import CronSyntaxError, build_trigger, cron_fields, previous_fire_time

# 2026-11-27 is a Friday.
NOW = datetime(2026, 11, 27, 3, 43, 5, 500, tzinfo=UTC)


def _next(expr: str, now: datetime = NOW) -> datetime:
    return build_trigger(expr, "UTC").get_next_fire_time(None, now)


def test_five_fields_are_crontab_with_second_zero() -> None:
    assert cron_fields("30 2 * * *") == {"second": "0", "minute": "30", "hour": "2", "day": "*",
                                         "month": "*", "day_of_week": "*"}
    assert _next("30 2 * * *") == datetime(2026, 11, 28, 2, 30, tzinfo=UTC)


def test_six_fields_put_seconds_first() -> None:
    assert _next("*/2 * * * * *") == datetime(2026, 11, 27, 3, 43, 6, tzinfo=UTC)
    assert _next("15 0 4 * * *") == datetime(2026, 11, 27, 4, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(("dow", "expected_weekdays"), [
    # crontab counts Sunday as 0 (and 7); Python's weekday() counts Monday as 0.
    ("1-5", {0, 1, 2, 3, 4}),
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("0", {6}),
    ("7", {6}),
    ("sun,sat", {5, 6}),
    ("*/2", {6, 1, 3, 5}),  # Sun, Tue, Thu, Sat
    ("5-7", {4, 5, 6}),
])
def test_weekdays_follow_crontab_numbering_not_apscheduler3(dow: str, expected_weekdays: set[int]) -> None:
    seen = set()
    t = NOW
    for _ in range(14):
        t = _next(f"0 9 * * {dow}", t + timedelta(seconds=1))
        seen.add(t.weekday())
    assert seen == expected_weekdays


@pytest.mark.parametrize(("expr", "message"), [
    ("not a cron", "expected 5 fields"),
    ("* * * * * * *", "got 7"),
    ("0 9 1 * 1", "restrict one of them"),
    ("0 9 * * 8", "'8' is not 0-7"),
    ("0 9 * * fri-mon", "runs backwards"),
    ("0 9 * * */0", "bad step"),
])
def test_bad_expressions_say_why(expr: str, message: str) -> None:
    with pytest.raises(CronSyntaxError, match=message):
        cron_fields(expr)


@pytest.mark.parametrize(("expr", "expected"), [
    ("30 2 * * *", datetime(2026, 11, 27, 2, 30, tzinfo=UTC)),
    ("0 4 * * *", datetime(2026, 11, 26, 4, 0, tzinfo=UTC)),
    ("*/2 * * * * *", datetime(2026, 11, 27, 3, 43, 4, tzinfo=UTC)),
    ("0 9 * * 1", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    ("0 0 1 * *", datetime(2026, 11, 1, tzinfo=UTC)),
    ("0 0 29 2 *", datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_previous_fire_time(expr: str, expected: datetime) -> None:
    assert previous_fire_time(build_trigger(expr, "UTC"), NOW) == expected


def test_previous_fire_time_counts_a_fire_exactly_now() -> None:
    now = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
    assert previous_fire_time(build_trigger("30 2 * * *", "UTC"), now) == now


def test_previous_fire_time_respects_the_time_zone() -> None:
    # 02:30 in Berlin (UTC+1 in November) is 01:30 UTC.
    prev = previous_fire_time(build_trigger("30 2 * * *", "Europe/Berlin"), NOW)
    assert prev is not None and prev.astimezone(UTC) == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
