"""One harvest at a time across processes: ``data_dir/harvest.lock`` held with ``fcntl.flock``.

flock rather than "a pid file that exists": the kernel drops the lock the moment the holding
process dies, however it dies (kill -9, power loss of the process, OOM killer), so a lock left by
a killed harvest can never block the next run, and no stale-pid guessing is needed. The file
holds the holder's pid and start time only so that a refused run can say who holds it.

On a clean release the file is removed. Removing a flock'ed file races with a process that opened
it just before the unlink (it would lock an orphaned inode while a third process creates and locks
a new file), so after locking we check that the file we hold is still the one at the path, and
retry otherwise.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from index.errors import LockedError


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown process"
    parts = dict(p.split("=", 1) for p in text.split() if "=" in p)
    pid = parts.get("pid", "?")
    started = parts.get("started", "?")
    return f"pid {pid}, started {started}"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


@contextmanager
def harvest_lock(path: Path, *, wait: bool = False, poll_s: float = 0.2,
                 should_stop: Callable[[], bool] | None = None,
                 what: str = "harvest",
                 hint: str = "wait for it or use --wait") -> Iterator[None]:
    """Hold the harvest lock for the duration of the block.

    ``wait=False``: raise LockedError at once when another process holds it. ``wait=True``: poll
    until it is free (polling rather than a blocking flock so that SIGTERM/SIGINT still stop the
    wait: ``should_stop`` is checked between attempts).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = _try_lock(fd)
            if locked and _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if locked:
            continue  # we locked a file that was unlinked meanwhile: take the new one
        if not wait:
            raise LockedError(f"another {what} is running ({_holder(path)}); {hint}")
        if should_stop is not None and should_stop():
            raise LockedError(f"stopped while waiting for another {what} ({_holder(path)})")
        time.sleep(poll_s)
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid={os.getpid()} started={started}\n".encode())
        yield
    finally:
        # Unlink while still holding the lock, then release: a waiter that opened the old file
        # notices the inode changed and retries on the path.
        try:
            if _same_file(fd, path):
                os.unlink(path)
        finally:
            os.close(fd)


def lock_is_held(path: Path) -> bool:
    """True when some live process holds the lock (for tests and status displays)."""
    path = Path(path)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)
