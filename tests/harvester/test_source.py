"""The Source interface: PubMed's E-utilities behind it, and a second source beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harvester.eutils import FetchResult
from harvester.harvest import run_harvest
from harvester.parse import parse_articles
from harvester.ratelimit import RateLimiter
from harvester.source import CREATED, Found, Parse, PubMedSource, Source
from index.article import Article
from index.progress import Progress
from index.settings import PubMedSettings, Settings, load_settings
from index.store import RecordStore
from tests.helpers import write_config


@pytest.mark.slow
def test_pubmed_source_searches_pages_and_fetches(eutils_server: Any) -> None:
    pm = PubMedSettings(base_url=eutils_server.base_url, email="lab@example.org",
                        backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5.0)
    source: Source = PubMedSource(pm, RateLimiter(1000.0))
    found = source.search("cancer", datetype=CREATED, mindate=date(1900, 1, 1),
                          maxdate=date(2100, 1, 1), retmax=9999)
    assert found.count == len(found.ids) > 3 and found.handle is not None
    page = source.fetch_page(found, 0, 3, parse_articles)
    assert [a.pmid for a in page] == found.ids[:3]
    result = source.fetch([found.ids[3], "1"], parse_articles)
    assert [a.pmid for a in result.articles] == [found.ids[3]] and result.missing == ["1"]
    assert source.requests_made >= 3
    without = source.search("cancer", datetype=CREATED, mindate=date(1900, 1, 1),
                            maxdate=date(2100, 1, 1), retmax=9999, keep=False)
    assert without.handle is None
    with pytest.raises(ValueError, match="kept"):
        source.fetch_page(without, 0, 3, parse_articles)


class ListSource:
    """A second source: records held in memory, searched by created date (no result sets)."""

    name = "memory"

    def __init__(self, articles: list[Article]) -> None:
        self.articles = {a.pmid: a for a in articles}
        self.requests_made = 0

    def search(self, query: str, *, datetype: str, mindate: date, maxdate: date, retmax: int,
               keep: bool = True) -> Found:
        self.requests_made += 1
        ids = [p for p, a in self.articles.items()
               if a.entrez_date and mindate.isoformat() <= a.entrez_date[:10] <= maxdate.isoformat()
               and datetype == CREATED]
        return Found(count=len(ids), ids=ids[:retmax])

    def fetch_page(self, found: Found, start: int, count: int, parse: Parse) -> list[Article]:
        raise AssertionError("no result set was kept")

    def fetch(self, ids: Sequence[str], parse: Parse) -> FetchResult:
        self.requests_made += 1
        return FetchResult(articles=[self.articles[p] for p in ids if p in self.articles],
                           missing=[p for p in ids if p not in self.articles])


@pytest.mark.slow
def test_a_second_source_harvests_through_the_same_walk(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, topics={"depression": {"query": "ketamine"}})
    settings: Settings = load_settings(cfg)
    records = [Article(pmid=str(100 + i), title=f"Ketamine study {i}", pub_year=2020,
                       entrez_date=f"2020-0{1 + i}-15") for i in range(3)]
    memory = ListSource(records)

    def factory(_settings: Settings, _limiter: RateLimiter, _stop: Callable[[], bool],
                _progress: Progress) -> Source:
        return memory

    report = run_harvest(settings, source=factory)
    assert report.ok and report.topics[0].new == 3
    assert report.topics[0].requests == memory.requests_made > 0
    with RecordStore(settings.store_path) as store:
        assert store.pmids("depression") == {"100", "101", "102"}
        assert store.pending_index() == []
