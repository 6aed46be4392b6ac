"""`ketlit schedule`: the nightly harvest, run in the foreground by APScheduler 3.

Nobody watches a nightly job, so the rules are:

- Fire on the cron expression and time zone of ``config.yaml`` (``schedule.cron``, 5 crontab
  fields or 6 with seconds first, see index/cron.py; ``schedule.timezone``).
- Never twice at once: ``max_instances=1`` inside this process, the harvest lock
  (harvester/lock.py) across processes. A run refused because a manual ``ketlit harvest`` holds
  the lock is logged and skipped; that harvest is doing the work.
- Missed fire times (machine asleep, a harvest that ran long) collapse into one run
  (``coalesce``) if they are at most ``schedule.misfire_grace_s`` late.
- Catch up on start: when the last successful harvest is older than the schedule's most recent
  fire time (one period of the schedule), harvest at once, then keep the schedule. A machine that
  was off at 02:30 harvests when it is switched on, not a day later.
- A failed run is logged with its cause and simply retried at the next fire time; the run log in
  the store (``ketlit stats``) records it.
- SIGTERM/SIGINT stop the schedule cleanly and the process exits 0: between runs at once, during
  a run after the harvest's own signal handling has committed and checkpointed.

Jobs run in the main thread (APScheduler's DebugExecutor, "run the callable directly"), not in a
thread pool: Python only lets the main thread install signal handlers, and the harvest needs its
own SIGTERM handling while it runs. With one job and max_instances=1 a pool would add nothing.

The harvester must not import ``search``, so what happens after a run (writing the digest) is a
callback, ``on_run_done``, that the CLI passes in.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from harvester.signals import StopFlag
from index.cron import build_trigger, previous_fire_time
from index.errors import ConfigError, KetlitError, LockedError
from index.settings import Settings
from index.store import RecordStore

if TYPE_CHECKING:
    from harvester.report import HarvestReport

log = logging.getLogger("ketlit.schedule")

JOB_ID = "nightly-harvest"
RunDone = Callable[["HarvestReport"], None]


def last_success(settings: Settings) -> datetime | None:
    """When every configured topic last harvested successfully: the stalest topic's time.

    None when some topic never completed a harvest (so a fresh install catches up at once).
    """
    if not settings.topics or not settings.store_path.exists():
        return None
    with RecordStore(settings.store_path) as store:
        times: list[datetime] = []
        for name in settings.topics:
            cp = store.checkpoint(name)
            if not cp or not cp.get("last_success"):
                return None
            times.append(_parse_utc(cp["last_success"]))
    return min(times)


def catch_up_reason(settings: Settings, now: datetime | None = None) -> str | None:
    """Why the schedule should harvest at once on start, or None when it is up to date."""
    if not settings.topics:
        return None
    now = now or datetime.now(UTC)
    trigger = build_trigger(settings.schedule.cron, settings.schedule.timezone)
    due = previous_fire_time(trigger, now)
    last = last_success(settings)
    if last is None:
        return "no complete harvest of every topic yet"
    if due is not None and last < due:
        return (f"the last successful harvest ({_fmt(last)}) is older than the last scheduled "
                f"time ({_fmt(due)})")
    return None


class _Schedule:
    """The scheduler, its job and its stop handling; one per ``run_schedule`` call."""

    def __init__(self, settings: Settings, on_run_done: RunDone | None) -> None:
        from apscheduler.executors.debug import DebugExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.settings = settings
        self.on_run_done = on_run_done
        self.stopping: str | None = None
        # One flag for the whole schedule, handed to every harvest: a signal that arrives between
        # runs, or just as one starts, is seen by the harvest; one that the harvest's own handler
        # takes during a run is seen here afterwards.
        self.flag = StopFlag()
        self._done = threading.Event()
        self._in_job = False
        self.trigger = build_trigger(settings.schedule.cron, settings.schedule.timezone)
        self.scheduler = BlockingScheduler(
            timezone=settings.schedule.timezone,
            executors={"default": DebugExecutor()},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": settings.schedule.misfire_grace_s},
        )

    # -- stopping -------------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only set the flag: shutting the scheduler down from here could interrupt its job loop
        # half-way (APScheduler then fails to update a job the shutdown already removed).
        self.flag.set(signal.Signals(signum).name)

    def _watch(self) -> None:
        """Shut the scheduler down once the flag is set (a signal, or a harvest that saw one).

        From a thread of its own: shutdown() waits for the scheduler's job-store lock, so it lands
        between two iterations of the job loop, never inside one.
        """
        while not self.flag.wait(0.5):
            if self._done.is_set():
                return
        self.stopping = self.flag.signal_name or "stop requested"
        if self._in_job:
            self.stopping += " during a harvest"
        log.info("schedule stopping (%s)", self.stopping)
        from apscheduler.schedulers.base import STATE_STOPPED

        if self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=False)

    # -- the job --------------------------------------------------------------------------------

    def next_fire(self) -> str:
        t = self.trigger.get_next_fire_time(None, datetime.now(UTC))
        return _fmt(t) if t else "never"

    def job(self) -> None:
        self._in_job = True
        try:
            self._job()
        finally:
            self._in_job = False

    def _job(self) -> None:
        if self.flag.is_set():
            return
        from harvester.harvest import run_harvest

        try:
            report = run_harvest(self.settings, wait=False, progress=False, stop=self.flag)
        except LockedError as exc:
            log.warning("scheduled harvest skipped: %s; next try at %s", exc, self.next_fire())
            return
        except KetlitError as exc:
            log.error("scheduled harvest failed: %s; retrying at the next scheduled time (%s)",
                      exc, self.next_fire())
            return
        except KeyboardInterrupt:
            # A second SIGTERM/SIGINT during the harvest: it stopped at once, without waiting for
            # the batch in flight (the store's transaction keeps that consistent).
            log.warning("scheduled harvest abandoned at once on a second signal")
            self.flag.set("stop requested")
            return
        except Exception as exc:  # a bug must not end the schedule: log it, try again next time
            log.error("scheduled harvest failed with an internal error: %s: %s; retrying at %s",
                      type(exc).__name__, exc, self.next_fire())
            log.debug("traceback of the failed harvest", exc_info=True)
            return

        interrupted = report.interrupted or self.flag.is_set()
        if interrupted:
            log.info("scheduled harvest interrupted; what it committed is kept and the next run "
                     "resumes from the checkpoints")
        elif report.ok:
            log.info("scheduled harvest finished; next run at %s", self.next_fire())
        else:
            log.error("scheduled harvest finished with failures (see the lines above); "
                      "retrying at the next scheduled time (%s)", self.next_fire())
        if self.on_run_done is not None:
            try:
                self.on_run_done(report)
            except Exception as exc:  # the digest is a courtesy: never let it stop the schedule
                log.error("after-run step failed: %s: %s", type(exc).__name__, exc)
                log.debug("traceback of the after-run step", exc_info=True)
        if interrupted:
            # The harvest's own handler took the SIGTERM/SIGINT that was meant for us as well and
            # set the shared flag; the watcher stops the schedule once this job has returned.
            self.flag.set("stop requested")

    # -- running --------------------------------------------------------------------------------

    def run(self) -> None:
        sched = self.settings.schedule
        now = datetime.now(UTC)
        first: dict[str, Any] = {}
        reason = catch_up_reason(self.settings, now)
        if reason:
            first["next_run_time"] = now.astimezone(self.trigger.timezone)
        self.scheduler.add_job(self.job, self.trigger, id=JOB_ID, name="ketlit harvest",
                               replace_existing=True, **first)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        watcher = threading.Thread(target=self._watch, name="schedule-stop", daemon=True)
        watcher.start()
        try:
            log.info("schedule started: cron %r in %s, misfire grace %ss", sched.cron,
                     sched.timezone, sched.misfire_grace_s)
            if reason:
                log.info("catching up now: %s", reason)
            else:
                log.info("up to date; next run at %s", self.next_fire())
            self.scheduler.start()
        finally:
            self._done.set()
            watcher.join(timeout=5)
            for s, h in previous.items():
                signal.signal(s, h)
        log.info("schedule stopped (%s)", self.stopping or "scheduler shut down")


def run_schedule(settings: Settings, on_run_done: RunDone | None = None) -> None:
    """Run the harvest schedule in the foreground until SIGTERM/SIGINT; then return normally."""
    if not settings.topics:
        # ConfigError (exit 2): the systemd unit does not restart on it, since waiting cannot help.
        raise ConfigError("schedule: config has no topics to harvest; add one under `topics:` "
                          "in config.yaml")
    _Schedule(settings, on_run_done).run()


def _parse_utc(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _fmt(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="seconds")
