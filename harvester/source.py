"""Where records come from: the ``Source`` interface the harvest walks, and PubMed behind it.

The harvest (harvester/harvest.py) needs three things of a literature source: the ids a query
matches in a date window (with their count, so a window over the source's cap is split), a page
of the matching records (when the source keeps the result set server-side, as E-utilities'
history does), and records by id (checked against the ids asked). ``PubMedSource`` answers them
with the E-utilities client (harvester/eutils.py: rate limit, retries, faults as failures); a
second source (Europe PMC, a preprint server) would be a class beside it with the same methods.

Date types are the source's own words for "created" and "modified" (PubMed: ``edat``, ``mdat``);
the harvest only passes them through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from harvester.eutils import EutilsClient, FetchResult
from harvester.ratelimit import RateLimiter
from index.article import Article
from index.progress import Progress
from index.settings import PubMedSettings, Settings

CREATED = "edat"  # records by the date they entered the source
MODIFIED = "mdat"  # records by the date they were last revised

# A parser of one fetched answer (bytes as the source sent them) into Articles; the harvest's
# runs in a helper process (harvester/parse_worker.py).
Parse = Callable[[bytes], list[Article]]


@dataclass(frozen=True)
class Found:
    """What a search found: how many records match, their ids (all of them, up to the asked
    ``retmax``), and a handle to fetch them by page (None when the source kept no result set)."""

    count: int
    ids: list[str]
    handle: tuple[str, str] | None = None


class Source(Protocol):
    """A literature source the harvest can walk (see the module docstring)."""

    name: str

    @property
    def requests_made(self) -> int:
        """Requests sent so far (the run log records them)."""
        ...

    def search(self, query: str, *, datetype: str, mindate: date, maxdate: date, retmax: int,
               keep: bool = True) -> Found:
        """The ids ``query`` matches with a ``datetype`` date in [mindate, maxdate]; ``keep``
        asks the source to keep the result set for :meth:`fetch_page`."""
        ...

    def fetch_page(self, found: Found, start: int, count: int, parse: Parse) -> list[Article]:
        """Records ``start`` to ``start + count`` of a kept result set (``found.handle``); the
        answer may come back short: the caller asks again by id for what is missing."""
        ...

    def fetch(self, ids: Sequence[str], parse: Parse) -> FetchResult:
        """Records by id, each answer checked against the ids asked; ids the source no longer
        has are reported in ``missing``."""
        ...


class PubMedSource:
    """PubMed through NCBI's E-utilities (esearch with usehistory, efetch)."""

    name = "pubmed"

    def __init__(self, pubmed: PubMedSettings, limiter: RateLimiter, *,
                 should_stop: Callable[[], bool] | None = None,
                 progress: Progress | None = None,
                 client: EutilsClient | None = None) -> None:
        self.client = client if client is not None else EutilsClient(
            pubmed, limiter, should_stop=should_stop, progress=progress)

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def search(self, query: str, *, datetype: str, mindate: date, maxdate: date, retmax: int,
               keep: bool = True) -> Found:
        res = self.client.esearch(query, datetype=datetype, mindate=mindate, maxdate=maxdate,
                                  retmax=retmax, usehistory=keep)
        handle = (res.webenv, res.query_key) if res.webenv and res.query_key else None
        return Found(count=res.count, ids=[str(i) for i in res.ids], handle=handle)

    def fetch_page(self, found: Found, start: int, count: int, parse: Parse) -> list[Article]:
        if found.handle is None:
            raise ValueError("fetch_page needs a result set kept by search(keep=True)")
        webenv, query_key = found.handle
        return self.client.efetch(webenv=webenv, query_key=query_key, retstart=start,
                                  retmax=count, parse=parse)

    def fetch(self, ids: Sequence[str], parse: Parse) -> FetchResult:
        return self.client.fetch_articles(ids, parse)


# What the harvest calls to get a topic's Source: (settings, the run's one rate limiter, "stop
# now?" for waits and requests in flight, progress) -> a Source.
SourceFactory = Callable[[Settings, RateLimiter, Callable[[], bool], Progress], Source]


def pubmed_source(settings: Settings, limiter: RateLimiter, should_stop: Callable[[], bool],
                  progress: Progress) -> Source:
    return PubMedSource(settings.pubmed, limiter, should_stop=should_stop, progress=progress)
