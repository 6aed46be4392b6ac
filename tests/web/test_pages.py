"""The pages that scale: "New since last harvest" paged with "Export all", the home page's
overview, citation lines as the text export writes them, affiliations listed once, numbered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import rispy
from fastapi.testclient import TestClient

from index.article import Article, Author
from index.settings import Settings
from index.store import RecordStore
from search.export.text import nlm_source
from search.web.app import create_app
from search.web.pages import affiliation_index, citation
from tests.web.conftest import XSS_PMID


@pytest.fixture(scope="module")
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings)) as c:
        yield c


def _new_total(web_settings: Settings) -> int:
    with RecordStore(web_settings.store_path) as store:
        return len(store.new_since(store.get_meta("last_harvest_started") or ""))


def test_new_is_paged_like_search(client: TestClient, web_settings: Settings) -> None:
    total = _new_total(web_settings)
    assert total > 300  # the whole sample is "new": nothing harvested before it
    html = client.get("/new").text
    assert f"{total:,} new records, page 1 of {-(-total // 20)}" in html
    first = re.findall(r'id="t-(\d+)"', html)
    assert len(first) == 20
    assert 'href="/new?page=2" rel="next"' in html
    second_html = client.get("/new", params={"page": 2}).text
    second = re.findall(r'id="t-(\d+)"', second_html)
    assert len(second) == 20 and not set(first) & set(second)
    assert '<ol class="hits" start="21">' in second_html
    last = client.get("/new", params={"page": 10_000, "limit": 100}).text  # past the end: last
    assert len(re.findall(r'id="t-(\d+)"', last)) == total - (-(-total // 100) - 1) * 100
    bad = client.get("/new", params={"page": "x", "topic": "nope"})
    assert bad.status_code == 400 and "page: expected a whole number" in bad.text
    assert "no topic named" in bad.text


def test_new_exports_all(client: TestClient, web_settings: Settings) -> None:
    html = client.get("/new").text
    total = _new_total(web_settings)
    assert f"Export all {total:,} new records" in html and 'action="/new/export"' in html
    r = client.get("/new/export", params={"format": "ris", "scope": "all"})
    assert r.status_code == 200
    assert len(rispy.loads(r.text)) == total
    r = client.get("/new/export", params={"format": "ris", "scope": "selected",
                                          "pmids": XSS_PMID}, follow_redirects=False)
    assert r.status_code == 303 and f"pmids={XSS_PMID}" in r.headers["location"]
    topic = client.get("/new/export", params={"format": "csv", "scope": "all", "topic": "ocd"})
    assert topic.status_code == 200 and topic.text.count("\n") > 1


def test_home_shows_topics_last_harvest_and_newest(client: TestClient,
                                                   web_settings: Settings) -> None:
    html = client.get("/").text
    assert "Type a query above" in html and 'id="overview"' in html
    facets = client.get("/api/search", params={"q": "*", "limit": 1}).json()["facets"]["topic"]
    for name in ("depression", "ptsd", "ocd"):
        row = re.search(rf'<tr data-topic="{name}">(.*?)</tr>', html, re.S)
        assert row, name
        assert f'<td class="num">{facets[name]:,}</td>' in row.group(1)
        assert "never" in row.group(1)  # no harvest has run on this data directory
        assert f"/feeds/topics/{name}.atom" in row.group(1)
    newest = re.findall(r'<ol class="newest".*?</ol>', html, re.S)[0]
    assert len(re.findall(r"<li>", newest)) == 8
    browse = client.get("/api/search", params={"q": "*", "sort": "newest", "limit": 8}).json()
    assert re.findall(r'href="/records/(\d+)"', newest) == [r["pmid"] for r in browse["results"]]


def test_citation_of_an_ahead_of_print_record_reads_as_the_text_export() -> None:
    art = Article(pmid="1", journal_iso="Eur J Med", pub_date="2019 Mar 28", pages="1-14",
                  pub_year=2019)
    assert citation(art) == "Eur J Med. 2019 Mar 28:1-14." == nlm_source(art)
    full = Article(pmid="2", journal_iso="J X", pub_date="2021 Sep", volume="12", issue="3",
                   pages="45-67")
    assert citation(full) == "J X. 2021 Sep;12(3):45-67."
    assert citation(Article(pmid="3", book_title="A Book.", pub_year=2020)) == "A Book. 2020."


def test_affiliations_are_listed_once_and_numbered(client: TestClient) -> None:
    shared, other = "Dept of Psychiatry, Yale, USA.", "NIMH, Bethesda, USA."
    art = Article(pmid="4", authors=[Author(last="A", affiliations=(shared,)),
                                     Author(last="B", affiliations=(other, shared)),
                                     Author(last="C", affiliations=(" Dept of  Psychiatry, Yale, USA.",)),
                                     Author(last="D")])
    distinct, per_author = affiliation_index(art)
    assert distinct == [shared, other]
    assert per_author == [[1], [2, 1], [1], []]
    html = client.get(f"/records/{XSS_PMID}").text
    assert '<ol class="affiliations" id="affiliations"' in html
    assert re.search(r'<li id="aff-1">Dept &lt;u&gt;of&lt;/u&gt; Psychiatry</li>', html)
    assert '<a href="#aff-1" aria-label="affiliation 1">1</a>' in html


def test_ranking_choice_sits_beside_sort_and_keeps_its_state(client: TestClient) -> None:
    from search import hybrid

    html = client.get("/", params={"q": "cancer", "rank": "lexical"}).text
    assert '<select id="rank" name="rank">' in html
    assert html.index('id="sort"') < html.index('id="rank"')
    assert re.search(r'<option value="lexical"[^>]* selected', html)
    if not hybrid.available():  # the choice is shown but cannot be picked
        assert re.search(r'<option value="hybrid"[^>]* disabled', html)
