"""The Atom feeds per topic and per saved search, read with feedparser as a feed reader would:
valid Atom, newest arrival first, links to the record page and to PubMed, markup as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from index.article import Article, Author
from index.settings import load_settings
from index.store import RecordStore
from search.web.app import create_app
from tests.helpers import write_config


def _article(pmid: str, title: str, abstract: str = "") -> Article:
    return Article(pmid=pmid, title=title, abstract=abstract, journal_iso="J Test",
                   pub_date="2024 Mar", pub_year=2024, authors=[Author(last="Doe", initials="J")])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from index.whoosh.writer import rebuild_index

    directory = tmp_path_factory.mktemp("feeds")
    config = write_config(directory, topics={
        "depression": {"label": "Ketamine for depression", "query": "ketamine AND depression"},
        "ocd": {"query": "ketamine AND ocd"}},
        alerts={"esk": {"query": "esketamine", "topic": "depression"}})
    settings = load_settings(config)
    t = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = RecordStore(settings.store_path, clock=lambda: t[0])
    with store:
        for i, (pmid, title, topic) in enumerate([
                ("101", "Ketamine for depression, the first", "depression"),
                ("102", "Esketamine nasal spray <script>x</script> & more", "depression"),
                ("103", "Ketamine and OCD", "ocd"),
                ("104", "Esketamine in OCD", "ocd"),
                ("105", "Esketamine maintenance in depression", "depression")]):
            t[0] = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i)
            store.upsert([_article(pmid, title, "Ketamine and the brain. " * 60)], topic=topic)
    rebuild_index(settings)
    with TestClient(create_app(settings)) as c:
        yield c


def _feed(client: TestClient, url: str) -> feedparser.FeedParserDict:
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_topic_feed_lists_arrivals_newest_first(client: TestClient) -> None:
    feed = _feed(client, "/feeds/topics/depression.atom")
    assert feed.feed.title == "ketlit: Ketamine for depression"
    assert [e.id for e in feed.entries] == [f"https://pubmed.ncbi.nlm.nih.gov/{p}/"
                                           for p in ("105", "102", "101")]
    first = feed.entries[0]
    assert first.updated == "2026-01-05T00:00:00Z" and feed.feed.updated == first.updated
    links = {link.rel: link.href for link in first.links}
    assert links["alternate"] == "http://testserver/records/105"
    assert links["related"] == "https://pubmed.ncbi.nlm.nih.gov/105/"
    assert "J Test. 2024 Mar." in first.summary and first.summary.endswith("\u2026")
    assert feed.entries[1].title == "Esketamine nasal spray <script>x</script> & more"
    assert {link.href for link in feed.feed.links} >= {
        "http://testserver/feeds/topics/depression.atom", "http://testserver/new?topic=depression"}


def test_alert_feed_lists_its_matches_and_unknown_names_are_404(client: TestClient) -> None:
    feed = _feed(client, "/feeds/alerts/esk.atom")
    assert [e.id.rsplit("/", 2)[1] for e in feed.entries] == ["105", "102"]  # not OCD's 104
    assert "esketamine" in feed.feed.subtitle
    r = client.get("/feeds/topics/nope.atom")
    assert r.status_code == 404 and "no topic named &#39;nope&#39;" in r.text
    assert client.get("/feeds/alerts/nope.atom").status_code == 404


def test_pages_advertise_and_link_the_feeds(client: TestClient) -> None:
    html = client.get("/").text
    assert 'type="application/atom+xml"' in html and 'href="/feeds/topics/ocd.atom"' in html
    assert 'href="/feeds/alerts/esk.atom"' in html


def test_feed_of_an_empty_store_is_valid(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, topics={"ocd": {"query": "x"}}))
    with TestClient(create_app(settings)) as c:
        feed = _feed(c, "/feeds/topics/ocd.atom")
    assert feed.entries == [] and feed.feed.updated == "1970-01-01T00:00:00Z"
