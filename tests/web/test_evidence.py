"""Evidence annotations in the JSON API and the pages (issue 16 points 2 and 3)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from index.settings import Settings
from search.web.app import create_app


@pytest.fixture(scope="module")
def client(evidence_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(evidence_settings)) as c:
        yield c


def pmids(data: dict) -> set[str]:
    return {r["pmid"] for r in data["results"]}


def test_api_search_filters_facets_and_annotations(client: TestClient) -> None:
    r = client.get("/api/search", params={"design": "rct", "route": ["intranasal", "oral"]})
    assert r.status_code == 200, r.text
    data = r.json()
    assert pmids(data) == {"80000001", "80000002"}
    assert data["facets"]["design"] == {"rct": 2}
    assert data["facets"]["participants"] == {"100-499": 1, "50-99": 1}
    assert data["results"][0]["annotations"]["drug"] == ["esketamine"]
    data = client.get("/api/search", params={"q": "ketamine", "min_participants": 100,
                                             "drug": "esketamine"}).json()
    assert pmids(data) == {"80000001"}
    data = client.get("/api/search", params={"q": "intranasal[route] AND phase-3[phase]"}).json()
    assert pmids(data) == {"80000001"}


def test_api_unknown_label_is_a_400_listing_the_known_ones(client: TestClient) -> None:
    r = client.get("/api/search", params={"condition": "gout"})
    assert r.status_code == 400
    assert "condition" in r.text and "treatment-resistant-depression" in r.text
    assert client.get("/api/search", params={"min_participants": -3}).status_code == 422


def test_api_new_and_export_take_the_evidence_filters(client: TestClient) -> None:
    data = client.get("/api/new", params={"since": "2000-01-01", "design": "rct",
                                          "drug": "ketamine"}).json()
    assert pmids(data) == {"80000003"}
    r = client.get("/api/export", params={"format": "csv", "condition": "ptsd"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["PMID"] for row in rows] == ["80000003"]


def test_openapi_documents_the_evidence_parameters(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"design", "route", "drug", "condition", "phase", "min_participants"} <= names


# -- the pages --------------------------------------------------------------------------------------

def test_search_page_has_evidence_facets_badges_and_keeps_the_filters(client: TestClient) -> None:
    r = client.get("/", params={"q": "ketamine", "design": "rct", "min_participants": "20"})
    assert r.status_code == 200
    page = r.text
    assert 'id="facet-design"' in page and 'id="facet-drug"' in page
    assert 'name="design" value="rct" id="design-1" checked' in page
    assert 'id="min-participants"' in page and 'value="20"' in page
    assert 'class="badge badge-evidence badge-design" data-facet="design"' in page
    assert "n = 224" in page and "80000004" not in page  # the cohort is filtered out
    r = client.get("/", params={"route": "rectal"})
    assert "route: unknown route &#39;rectal&#39;" in r.text and r.status_code == 400


def test_record_page_has_an_evidence_section(client: TestClient) -> None:
    page = client.get("/records/80000001").text
    assert 'id="evidence-h">Evidence</h2>' in page
    for text in ("Study design", "rct", "intranasal", "treatment-resistant-depression", "224",
                 "phase-3", "placebo", "NCT01234567"):
        assert text in page, text


def test_evidence_map_crosses_facets_and_links_each_cell_to_its_search(
        client: TestClient) -> None:
    r = client.get("/evidence")
    assert r.status_code == 200
    page = r.text
    assert 'id="map-condition-drug"' in page and 'id="map-design-route"' in page
    # depression x esketamine: 80000001, 80000002, 80000005
    cell = re.search(r'<a href="/\?([^"]+)" data-row="depression" data-col="esketamine"[^>]*>'
                     r"(\d+)</a>", page)
    assert cell is not None and cell.group(2) == "3"
    params = dict(p.split("=") for p in html.unescape(cell.group(1)).split("&"))
    assert params == {"condition": "depression", "drug": "esketamine"}
    found = client.get("/api/search", params=params).json()
    assert found["total"] == 3
    # design x route: rct x intranasal is 2; cells of a search keep its query
    page = client.get("/evidence", params={"q": "PTSD"}).text
    assert re.search(r'href="/\?q=PTSD&amp;design=rct&amp;route=intravenous" '
                     r'data-row="rct" data-col="intravenous"[^>]*>1</a>', page)
    assert client.get("/evidence", params={"q": "(ketamine"}).status_code == 400


def test_navigation_links_the_evidence_map(client: TestClient) -> None:
    assert '<a href="/evidence"' in client.get("/").text


def test_clear_filters_clears_the_evidence_filters_too(client: TestClient) -> None:
    page = client.get("/", params={"q": "ketamine", "design": "rct", "min_participants": 5}).text
    link = re.search(r'<a href="/\?([^"]*)">Clear filters</a>', page)
    assert link is not None and html.unescape(link.group(1)) == "q=ketamine"
