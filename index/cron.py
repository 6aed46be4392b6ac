"""Cron expressions as config.yaml writes them, turned into APScheduler CronTrigger fields.

Lives in ``index`` (not ``harvester``) because settings validation needs it and ``index`` imports
neither of the other packages; the scheduler in ``harvester.schedule`` builds its trigger from it.

Two forms are accepted:

- 5 fields, standard crontab: ``minute hour day month day_of_week`` ("30 2 * * *").
- 6 fields, seconds first: ``second minute hour day month day_of_week`` ("*/2 * * * * *").
  Nobody needs seconds for a nightly harvest; the form exists so that tests (and anyone checking
  a deployment) can make the schedule fire within seconds through the very same code path.

We do not use ``CronTrigger.from_crontab``: APScheduler 3.x numbers weekdays from Monday=0
while crontab numbers them from Sunday=0, so "* * * * 1-5" would silently run Tuesday to
Saturday. Day-of-week numbers are translated here. Crontab also ORs a restricted day-of-month
with a restricted day-of-week where APScheduler ANDs them; rather than run at surprising times,
restricting both is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

_CRONTAB_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")
_FIELDS_6 = ("second", *_FIELDS_5)


class CronSyntaxError(ValueError):
    """The cron expression cannot be understood; the message says which part and why."""


def cron_fields(expr: str) -> dict[str, str]:
    """Keyword arguments for ``apscheduler.triggers.cron.CronTrigger`` from a 5/6-field cron."""
    values = expr.split()
    if len(values) == 5:
        fields = dict(zip(_FIELDS_5, values, strict=True))
        fields["second"] = "0"
    elif len(values) == 6:
        fields = dict(zip(_FIELDS_6, values, strict=True))
    else:
        raise CronSyntaxError(
            f"expected 5 fields (minute hour day month day-of-week) or 6 with seconds first, "
            f"got {len(values)}")
    if _restricted(fields["day"]) and _restricted(fields["day_of_week"]):
        raise CronSyntaxError(
            "both day-of-month and day-of-week are restricted; crontab runs on either, "
            "APScheduler only on both: restrict one of them and leave the other '*'")
    fields["day_of_week"] = _crontab_dow(fields["day_of_week"])
    if fields["day"] == "?":
        fields["day"] = "*"
    return fields


def build_trigger(expr: str, timezone: str | tzinfo) -> Any:
    """The CronTrigger for ``expr`` in ``timezone`` (ValueError/LookupError when invalid)."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(timezone=timezone, **cron_fields(expr))


def previous_fire_time(trigger: Any, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` when ``trigger`` fires (None if none in ~8 years).

    APScheduler 3 triggers only look forward, so look back from ``now`` over windows that double
    until one holds a fire time, then walk forward to the last one not after ``now``. The walk is
    short: the window is at most about twice the longest gap between fire times.
    """
    back = timedelta(seconds=1)
    limit = timedelta(days=366 * 8 + 2)  # "0 0 29 2 *" fires every 4 years, 8 covers a skipped leap
    while back <= limit:
        t = trigger.get_next_fire_time(None, now - back)
        if t is not None and t <= now:
            while True:
                nxt = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
                if nxt is None or nxt > now or nxt <= t:
                    return t
                t = nxt
        back *= 2
    return None


def _restricted(field: str) -> bool:
    return field not in ("*", "?")


def _dow_number(token: str, whole: str) -> int:
    tok = token.strip().lower()
    if tok.isdigit():
        n = int(tok)
        if 0 <= n <= 7:
            return n
    elif tok[:3] in _CRONTAB_DAYS and len(tok) in (3, 6, 7, 8, 9):
        return _CRONTAB_DAYS.index(tok[:3])
    raise CronSyntaxError(f"day-of-week {whole!r}: {token!r} is not 0-7 or a day name")


def _crontab_dow(field: str) -> str:
    """Crontab weekdays (0 or 7 = Sunday) as APScheduler 3 weekday numbers (0 = Monday)."""
    if not _restricted(field):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        rng, slash, step_s = part.partition("/")
        step = 1
        if slash:
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronSyntaxError(f"day-of-week {field!r}: bad step {step_s!r}")
            step = int(step_s)
        if rng in ("*", "?"):
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _dow_number(a, field), _dow_number(b, field)
            if lo > hi:
                raise CronSyntaxError(f"day-of-week {field!r}: range {rng!r} runs backwards")
        else:
            lo = _dow_number(rng, field)
            hi = 6 if slash else lo
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(str((d + 6) % 7) for d in sorted(days, key=lambda d: (d + 6) % 7))
