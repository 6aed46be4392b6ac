"""Unit tests of the schedule's decisions; tests/test_nightly.py runs the real process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvester.schedule import catch_up_reason, last_success, run_schedule
from index.errors import KetlitError
from index.settings import Settings, settings_from_mapping
from index.store import RecordStore

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # half an hour after the nightly 02:30


def _settings(tmp_path: Path, cron: str = "30 2 * * *", tz: str = "UTC") -> Settings:
    return settings_from_mapping({"topics": {"a": {"query": "x"}, "b": {"query": "y"}},
                                  "schedule": {"cron": cron, "timezone": tz}}, tmp_path)


def _succeeded(s: Settings, **when: str) -> None:
    with RecordStore(s.store_path) as store:
        for topic, t in when.items():
            store.set_checkpoint(topic, query="q", last_date="2026-11-26", last_success=t)


def test_fresh_install_catches_up(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    assert last_success(s) is None
    assert catch_up_reason(s, NOW) == "no complete harvest of every topic yet"


def test_a_run_after_the_last_fire_time_is_up_to_date(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    _succeeded(s, a="2026-11-27T02:31:10+00:00", b="2026-11-27T02:40:00+00:00")
    assert last_success(s) == datetime(2026, 11, 27, 2, 31, 10, tzinfo=UTC)
    assert catch_up_reason(s, NOW) is None


def test_missing_the_last_fire_time_catches_up(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    # Yesterday's run succeeded; the machine was off at 02:30 today.
    _succeeded(s, a="2026-11-26T02:31:00+00:00", b="2026-11-26T02:35:00+00:00")
    reason = catch_up_reason(s, NOW)
    assert reason is not None and "2026-11-26 02:31:00" in reason and "2026-11-27 02:30:00" in reason


def test_the_stalest_topic_decides(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    _succeeded(s, a="2026-11-27T02:31:00+00:00", b="2026-11-25T02:31:00+00:00")
    assert catch_up_reason(s, NOW) is not None
    s2 = _settings(tmp_path / "other")
    _succeeded(s2, a="2026-11-27T02:31:00+00:00")  # topic b never completed
    assert catch_up_reason(s2, NOW) == "no complete harvest of every topic yet"


def test_period_comes_from_the_trigger_and_its_time_zone(tmp_path: Path) -> None:
    # Weekly on Mondays (crontab 1): a success on Monday 2026-11-23 is current all week.
    s = _settings(tmp_path, cron="0 4 * * 1")
    _succeeded(s, a="2026-11-23T04:05:00+00:00", b="2026-11-23T04:06:00+00:00")
    assert catch_up_reason(s, NOW) is None
    # 02:30 in Tokyo is 17:30 UTC the day before: a success at 18:00 UTC on the 26th is current.
    s = _settings(tmp_path / "tokyo", tz="Asia/Tokyo")
    _succeeded(s, a="2026-11-26T18:00:00+00:00", b="2026-11-26T18:00:00+00:00")
    assert catch_up_reason(s, NOW) is None
    _succeeded(s, b="2026-11-26T17:00:00+00:00")
    assert catch_up_reason(s, NOW) is not None


@pytest.mark.slow
def test_schedule_without_topics_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    s = settings_from_mapping({}, tmp_path)
    with pytest.raises(KetlitError, match="add one under `topics:`"):
        run_schedule(s)


@pytest.mark.parametrize(("schedule", "message"), [
    ({"cron": "*/2 * * * *  *  *"}, "schedule.cron"),
    ({"cron": "0 3 * * 1-5", "timezone": "Nowhere/Special"}, "schedule.timezone"),
    ({"misfire_grace_s": 0}, "schedule.misfire_grace_s"),
])
def test_bad_schedule_config_names_the_key(tmp_path: Path, schedule: dict[str, object],
                                           message: str) -> None:
    from index.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"schedule": schedule}, tmp_path)
