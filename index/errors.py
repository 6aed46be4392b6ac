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
