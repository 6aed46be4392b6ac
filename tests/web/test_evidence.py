"""Evidence annotations in the JSON API and the pages (issue 16 points 2 and 3)."""

from __future__ import annotations

import csv
import io
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
