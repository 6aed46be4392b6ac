"""The fetch side of a harvest pass (harvester/fetch.py): the window walk's items, and the
producer thread's queue. The source is the in-memory second Source of test_source.py, so no
server and no process is needed; tests/harvester/test_harvest.py drives the same code over the
loopback E-utilities server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from harvester.fetch import (
    Batch,
    Item,
    Stopped,
    Tag,
    WindowDone,
    WindowFetcher,
    WindowStart,
    pipelined,
)
from harvester.source import CREATED, Found
from harvester.windows import Window, WindowWalk
from index.article import Article
from index.errors import HarvestError
from index.settings import Topic
from index.store import RecordStore
from tests.harvester.test_source import ListSource

TOPIC = Topic(name="depression", query="ketamine")
YEAR_2020 = Window(date(2020, 1, 1), date(2020, 12, 31))


def _records(n: int) -> list[Article]:
    return [Article(pmid=str(100 + i), title=f"Ketamine study {i}", pub_year=2020,
                    entrez_date=f"2020-{1 + i % 12:02d}-15") for i in range(n)]


def _items(tmp_path: Path, source: ListSource, *, cap: int = 9999, batch: int = 2,
           window: Window = YEAR_2020, refetch: bool = False) -> tuple[list[Item], list[int]]:
    answers: list[int] = []
    fetcher = WindowFetcher(tmp_path / "store.sqlite", cap, batch,
                            lambda _body: [], lambda: answers.append(1))
    items = list(fetcher.produce(TOPIC, source, WindowWalk(window), CREATED, refetch=refetch))
    return items, answers


def test_a_window_yields_its_start_batches_of_the_batch_size_and_its_end(tmp_path: Path) -> None:
    RecordStore(tmp_path / "store.sqlite").close()
    source = ListSource(_records(5))
    items, answers = _items(tmp_path, source)
    assert isinstance(items[0], WindowStart) and items[0].to_fetch == 5
    batches = [i for i in items if isinstance(i, Batch)]
    assert [len(b.articles) for b in batches] == [2, 2, 1]
    assert [a.pmid for b in batches for a in b.articles] == [str(100 + i) for i in range(5)]
    assert isinstance(items[-1], WindowDone) and items[-1].missing == []
    assert answers == [1]  # one search answered


def test_records_stored_from_another_topic_are_tagged_not_fetched(tmp_path: Path) -> None:
    records = _records(4)
    with RecordStore(tmp_path / "store.sqlite") as store, store.transaction():
        store.upsert(records[:3], topic="ptsd")
    source = ListSource(records)
    items, _ = _items(tmp_path, source)
    assert items[0] == WindowStart(YEAR_2020, CREATED, 1)
    assert [i.pmids for i in items if isinstance(i, Tag)] == [["100", "101", "102"]]
    assert [a.pmid for i in items if isinstance(i, Batch) for a in i.articles] == ["103"]
    # --full fetches every record again, and tags none
    items, _ = _items(tmp_path, source, refetch=True)
    assert not [i for i in items if isinstance(i, Tag)]
    assert sum(len(i.articles) for i in items if isinstance(i, Batch)) == 4


def test_a_window_at_the_cap_is_split_and_a_single_day_cannot_be(tmp_path: Path) -> None:
    RecordStore(tmp_path / "store.sqlite").close()
    source = ListSource(_records(6))  # January to June
    items, _ = _items(tmp_path, source, cap=4)
    done = [i for i in items if isinstance(i, WindowDone)]
    assert len(done) >= 2 and all(len(d.ids) < 4 for d in done)
    assert sorted(p for d in done for p in d.ids) == [str(100 + i) for i in range(6)]
    same_day = ListSource([Article(pmid=str(200 + i), title="t", entrez_date="2020-03-01")
                           for i in range(3)])
    with pytest.raises(HarvestError, match="cannot be split"):
        _items(tmp_path, same_day, cap=2, window=Window(date(2020, 3, 1), date(2020, 3, 1)))


def test_ids_the_source_no_longer_returns_are_reported_missing(tmp_path: Path) -> None:
    RecordStore(tmp_path / "store.sqlite").close()
    records = _records(3)
    source = ListSource(records)
    del source.articles["101"]  # listed by the search below, then gone when fetched
    source.search = lambda query, **kw: Found(count=3, ids=["100", "101", "102"])  # type: ignore[method-assign]
    items, _ = _items(tmp_path, source)
    assert items[-1] == WindowDone(YEAR_2020, CREATED, ["100", "101", "102"], ["101"])
    assert [a.pmid for i in items if isinstance(i, Batch) for a in i.articles] == ["100", "102"]


# -- the producer thread ------------------------------------------------------------------------


def test_pipelined_yields_in_order_and_hands_the_producers_error_on() -> None:
    def produce(_stop: threading.Event) -> Iterator[Item]:
        for i in range(5):
            yield Tag([str(i)])
        raise HarvestError("the server went away")

    seen: list[str] = []
    with pytest.raises(HarvestError, match="went away"):
        for item in pipelined(produce, threading.Event(), lambda: False):
            assert isinstance(item, Tag)
            seen.extend(item.pmids)
    assert seen == ["0", "1", "2", "3", "4"]


def test_pipelined_gives_up_waiting_when_asked_to_stop() -> None:
    stop = threading.Event()
    asked = threading.Event()

    def produce(producer_stop: threading.Event) -> Iterator[Item]:
        # A producer inside a long request: it notices the stop only when it returns.
        producer_stop.wait(5)
        yield Tag(["late"])

    t0 = time.monotonic()
    threading.Timer(0.2, asked.set).start()
    with pytest.raises(Stopped):
        list(pipelined(produce, stop, asked.is_set))
    assert time.monotonic() - t0 < 2.5 and stop.is_set()
