from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.article import Article, Author
from index.settings import Settings, settings_from_mapping
from index.store import RecordStore
from search.digest import collect_digest, render_article, write_digest

BEFORE = "2026-11-26T02:30:05+00:00"
START = "2026-11-27T02:30:00+00:00"


def _settings(tmp_path: Path) -> Settings:
    return settings_from_mapping({
        "topics": {"depression": {"query": "d", "label": "Ketamine for depression"},
                   "ptsd": {"query": "p"}},
    }, tmp_path)


def _add(store: RecordStore, pmid: str, topic: str, first_seen: str, **fields: object) -> None:
    art = Article(pmid=pmid, title=f"Title {pmid}", journal="J Psych", pub_year=2026,
                  authors=[Author(last="Smith", initials="J")], **fields)  # type: ignore[arg-type]
    store.upsert([art], topic=topic)
    store.conn.execute("UPDATE articles SET first_seen=? WHERE pmid=?", (first_seen, pmid))
    store.conn.execute("UPDATE topic_seen SET first_seen=? WHERE pmid=?", (first_seen, pmid))


def _pinned() -> datetime:
    # Every stamp the fixture's store writes falls in the run it pretends to be, whatever today is.
    return datetime(2026, 11, 27, 2, 34, tzinfo=UTC)


@pytest.fixture
def populated(tmp_path: Path) -> Settings:
    s = _settings(tmp_path)
    with RecordStore(s.store_path, clock=_pinned) as store:
        _add(store, "100", "depression", BEFORE)
        _add(store, "101", "ptsd", BEFORE)
        _add(store, "200", "depression", "2026-11-27T02:31:00+00:00")
        _add(store, "201", "depression", "2026-11-27T02:32:00+00:00")
        _add(store, "202", "ptsd", "2026-11-27T02:33:00+00:00")
        store.upsert([Article(pmid="202", title="Title 202")], topic="depression")  # both topics
        store.set_meta("last_harvest_started", START)
    return s


def test_lists_exactly_the_records_new_since_the_run_started(populated: Settings) -> None:
    d = collect_digest(populated, START)
    assert [a.pmid for a in d.topics["depression"]] == ["202", "201", "200"]
    assert [a.pmid for a in d.topics["ptsd"]] == ["202"]
    assert d.alerts == []


def test_a_known_record_new_to_a_topic_is_listed_under_it(populated: Settings) -> None:
    with RecordStore(populated.store_path) as store:
        store.upsert([Article(pmid="101", title="Title 101")], topic="depression")
    d = collect_digest(populated, START)
    assert "101" in [a.pmid for a in d.topics["depression"]]
    assert "101" not in [a.pmid for a in d.topics["ptsd"]]


def test_writes_dated_markdown_and_a_second_file_for_a_second_run(populated: Settings) -> None:
    first = write_digest(populated)
    assert first is not None and first.parent == populated.digests_dir
    assert first.name[:4].isdigit() and first.suffix == ".md"
    text = first.read_text()
    assert "## Ketamine for depression (depression): 3 new" in text
    assert "## ptsd: 1 new" in text
    assert "[PMID 201](https://pubmed.ncbi.nlm.nih.gov/201/)" in text
    assert "PMID 100" not in text and "PMID 101" not in text
    second = write_digest(populated)
    assert second is not None and second.name == first.stem + "-2.md"
    assert first.read_text() == text  # an earlier digest is never overwritten


def test_nothing_new_writes_nothing(populated: Settings) -> None:
    assert write_digest(populated, "2026-11-28T00:00:00+00:00") is None
    assert not populated.digests_dir.exists()


def test_nothing_harvested_yet_writes_nothing(tmp_path: Path) -> None:
    assert write_digest(_settings(tmp_path)) is None


def test_entry_escapes_markdown_and_shortens_long_author_lists() -> None:
    art = Article(pmid="7", title="Ketamine *and* [R]-ketamine_2 in <TRD>.", journal="Biol Psychiatry",
                  pub_year=2025, authors=[Author(last=f"A{i}", initials="B") for i in range(9)],
                  retracted=True)
    line = render_article(art)
    assert line.startswith(r"- **Ketamine \*and\* \[R\]-ketamine\_2 in \<TRD\>.**")
    assert "A0 B, A1 B, A2 B, A3 B, A4 B, A5 B, et al. *Biol" in line
    assert "A6 B" not in line
    assert "*Biol Psychiatry*. 2025. **Retracted.** [PMID 7](https://pubmed.ncbi.nlm.nih.gov/7/)" in line


def test_a_first_harvest_is_summarised_not_listed(tmp_path: Path) -> None:
    from search.digest import LIST_NEWEST, render_digest

    s = _settings(tmp_path)
    with RecordStore(s.store_path, clock=_pinned) as store:
        for i in range(300):
            art = Article(pmid=str(1000 + i), title=f"T{i}", pub_year=2000 + i % 20)
            store.upsert([art], topic="depression")
        store.set_meta("last_harvest_started", START)
    d = collect_digest(s, START)
    assert d.first and len(d.topics["depression"]) == 300
    text = render_digest(s, d, "2026-11-27")
    assert "This was the first harvest" in text
    assert "300 records; by year of publication: 2019 15, 2018 15," in text
    assert text.count("- **T") == LIST_NEWEST
    assert "## ptsd: 0 new" in text and "No new records." in text


def test_a_nightly_run_is_not_a_first_harvest(populated: Settings) -> None:
    assert not collect_digest(populated, START).first


def test_each_list_says_what_is_new_by_design(tmp_path: Path) -> None:
    from search.digest import evidence_counts, render_digest
    from tests.search.evidence_records import ann

    def rec(pmid: str, design: list[str], drug: list[str]) -> Article:
        return Article(pmid=pmid, title=f"T{pmid}",
                       annotations=ann(design, ["unknown"], drug, ["depression"], None,
                                       ["unknown"]))

    arts = [rec("1", ["rct"], ["esketamine"]), rec("2", ["rct"], ["esketamine"]),
            rec("3", ["systematic-review"], ["ketamine", "esketamine"]),
            rec("4", ["other"], ["ketamine"]), Article(pmid="5", title="never annotated"),
            rec("6", ["cohort"], ["unknown"])]
    assert evidence_counts(arts) == (
        "By design: 2 new RCTs of esketamine; 1 new cohort study; 1 new systematic review of "
        "ketamine and esketamine; 2 other new records.")
    assert evidence_counts([]) is None
    s = _settings(tmp_path)
    with RecordStore(s.store_path, clock=_pinned) as store:
        _add(store, "100", "depression", BEFORE)
        store.upsert(arts[:2], topic="depression")
        store.set_meta("last_harvest_started", START)
    text = render_digest(s, collect_digest(s, START), "2026-11-27")
    assert "By design: 2 new RCTs of esketamine." in text
