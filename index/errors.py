"""Typed errors. Library code raises these; the CLI and the web layer turn them into one clear
line (or a 4xx) at a single edge. Every message says what is wrong and what to do about it."""

from __future__ import annotations


class KetlitError(Exception):
    """Base of every error a user may see. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(KetlitError):
    exit_code = 2


class UsageError(KetlitError):
    exit_code = 2


class QueryError(KetlitError):
    """A malformed search query; the message points at where."""

    exit_code = 2


class IndexMissingError(KetlitError):
    """No index yet, or one that cannot be opened: the remedy is harvest/ingest or reindex."""

    exit_code = 3


class HarvestError(KetlitError):
    """A harvest could not complete (network down, retries exhausted, bad answers)."""

    exit_code = 4


class LockedError(KetlitError):
    """Another harvest holds the lock in data_dir."""

    exit_code = 5


class InputFileError(KetlitError):
    """A file given to ingest or --pmids that cannot be read or parsed."""

    exit_code = 2


class NotFoundError(KetlitError):
    exit_code = 6


class IndexUnavailableError(IndexMissingError):
    """The search backend cannot be reached or did not answer (a SolrCloud node down, a
    timeout): the message names the URL and what to do. Nothing is marked indexed meanwhile."""


class CorruptDataError(KetlitError):
    """The record store or the index is damaged: the message names the file and the remedy."""

    exit_code = 7


class PermissionDeniedError(KetlitError):
    """A file ketlit must read or write is not accessible (permissions, a read-only disk)."""

    exit_code = 8


class DiskFullError(KetlitError):
    """The disk holding data_dir is full; what was committed before is kept."""

    exit_code = 9


def environment_error(exc: BaseException, path: object = None) -> KetlitError | None:
    """The user-fixable error behind an OS or SQLite failure (disk full, permission denied,
    a corrupt file), as one line naming the file and the remedy; None when it is not one."""
    import errno
    import sqlite3

    where = str(path or getattr(exc, "filename", None) or "data_dir")
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
        if exc.errno == errno.ENOSPC:
            return DiskFullError(f"disk full writing {where}: free some space and run the command "
                                 "again (what was saved before is kept)")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return PermissionDeniedError(f"permission denied: {where}: give the user running "
                                         "ketlit access to it, or point data_dir elsewhere")
        return None
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "disk is full" in text or "disk i/o" in text and "full" in text:
            return DiskFullError(f"disk full writing {where}: free some space and run the command "
                                 "again (what was saved before is kept)")
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return PermissionDeniedError(f"cannot write {where} ({exc}): give the user running "
                                         "ketlit write access to data_dir, or run only reads")
        return None
    if isinstance(exc, sqlite3.DatabaseError):
        return CorruptDataError(f"{where} is damaged ({exc}): restore it from a backup, or move it "
                                "away and run `ketlit harvest --full` to fetch the records again")
    return None


class SearchTimeoutError(KetlitError):
    """A search ran past its time budget (search.timeout_s) and was stopped."""

    exit_code = 2
