"""The JSON API and the server-rendered pages, through Starlette's TestClient over a real index.

Also `ketlit serve` itself: it binds a loopback port, answers, refuses a taken port with one line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest
import rispy
from fastapi.testclient import TestClient

from index.settings import Settings
from search.web.app import create_app
from search.web.pages import snippet_markup
from search.web.params import parse_pmids, parse_state
from tests.helpers import REPO, ketlit_executable
from tests.web.conftest import PLAIN_PMID, XSS_PMID, XSS_TITLE, topics_for

SEARCH_KEYS = {"query", "total", "page", "per_page", "results", "facets"}
RESULT_KEYS = {"pmid", "title", "authors", "journal", "year", "doi", "topics",
               "publication_types", "retracted", "score", "snippet", "annotations"}


@pytest.fixture(scope="module")
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings)) as c:
        yield c


def search(client: TestClient, **params: object) -> dict:
    r = client.get("/api/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()


# -- search -----------------------------------------------------------------------------------------

def test_search_answers_the_design_json_with_facets(client: TestClient) -> None:
    data = search(client, q="cancer")
    assert set(data) >= SEARCH_KEYS
    assert data["query"] == "cancer" and data["page"] == 1 and data["per_page"] == 20
    assert data["total"] > 20, "the shared records have many cancer papers"
    assert len(data["results"]) == 20
    for r in data["results"]:
        assert set(r) >= RESULT_KEYS
        assert isinstance(r["authors"], list) and isinstance(r["topics"], list)
    facets = data["facets"]
    assert set(facets) >= {"topic", "year", "publication_type"}
    # every record has at least one topic, so the topic counts cover the whole result set
    assert sum(facets["topic"].values()) >= data["total"]
    assert max(facets["topic"].values()) <= data["total"]
    assert all(v > 0 for v in facets["year"].values())


def test_snippets_mark_the_matched_terms(client: TestClient) -> None:
    data = search(client, q="cancer")
    marked = [r["snippet"] for r in data["results"] if r["snippet"] and "<mark>" in r["snippet"]]
    assert marked, "some snippet highlights the query term"
    assert all(re.search(r"<mark>[^<]*cancer[^<]*</mark>", s, re.I) for s in marked[:3])


def test_topic_filter_matches_the_facet_count(client: TestClient) -> None:
    everything = search(client, q="cancer")
    ptsd_count = everything["facets"]["topic"]["ptsd"]
    only = search(client, q="cancer", topic="ptsd", limit=100)
    assert only["total"] == ptsd_count
    assert all("ptsd" in r["topics"] for r in only["results"])
    both = client.get("/api/search", params=[("q", "cancer"), ("topic", "ptsd"),
                                              ("topic", "ocd")]).json()
    assert both["total"] >= only["total"]


def test_year_type_retracted_and_abstract_filters(client: TestClient) -> None:
    data = search(client, q="cancer", **{"from": 2015, "to": 2020}, limit=100)
    assert data["total"] > 0
    assert all(2015 <= r["year"] <= 2020 for r in data["results"])
    assert set(data["facets"]["year"]) <= {str(y) for y in range(2015, 2021)}

    types = search(client, q="cancer")["facets"]["publication_type"]
    review = next(t for t in types if t.lower() == "review")
    reviews = search(client, q="cancer", type=review, limit=100)
    assert reviews["total"] == types[review]
    assert all(any(t.lower() == "review" for t in r["publication_types"])
               for r in reviews["results"])

    with_retracted = search(client, q="xenomarkup")
    assert any(r["retracted"] for r in with_retracted["results"])
    without = search(client, q="xenomarkup", no_retracted="true")
    assert without["total"] == with_retracted["total"] - 1
    assert not any(r["retracted"] for r in without["results"])

    assert search(client, q="cancer", has_abstract="true")["total"] <= search(
        client, q="cancer")["total"]


def test_pages_do_not_overlap_and_sort_by_date(client: TestClient) -> None:
    p1 = search(client, q="cancer", limit=10, page=1)
    p2 = search(client, q="cancer", limit=10, page=2)
    assert p2["page"] == 2 and len(p1["results"]) == 10
    assert not {r["pmid"] for r in p1["results"]} & {r["pmid"] for r in p2["results"]}
    # newest/oldest sort by the record's date (electronic, else Entrez), which can differ from
    # the publication year by a year or so: compare the two ends rather than every neighbour
    newest = [r["year"] for r in search(client, q="cancer", sort="newest", limit=20)["results"]]
    oldest = [r["year"] for r in search(client, q="cancer", sort="oldest", limit=20)["results"]]
    newest = [y for y in newest if y]
    oldest = [y for y in oldest if y]
    assert min(newest) > max(oldest)


def test_match_any_finds_at_least_what_all_finds(client: TestClient) -> None:
    q = "cancer brain"
    assert search(client, q=q, match="any")["total"] >= search(client, q=q)["total"]


@pytest.mark.parametrize(("params", "status", "fragment"), [
    ({"q": "cancer AND (treatment"}, 400, ""),
    ({"q": "cancer", "limit": 0}, 422, "limit"),
    ({"q": "cancer", "limit": "many"}, 422, "limit"),
    ({"q": "cancer", "page": -1}, 422, "page"),
    ({"q": "cancer", "from": "last year"}, 422, "from"),
    ({"q": "cancer", "from": 2020, "to": 2010}, 400, "from"),
    ({"q": "cancer", "sort": "random"}, 422, "sort"),
    ({"q": "cancer", "match": "some"}, 422, "match"),
    ({"q": "cancer", "no_retracted": "perhaps"}, 422, "no_retracted"),
])
def test_bad_parameters_get_a_clear_4xx(client: TestClient, params: dict, status: int,
                                        fragment: str) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    assert fragment in detail


# -- records, similar, new, stats -------------------------------------------------------------------

def test_record_has_the_article_fields(client: TestClient, sample_articles: list) -> None:
    art = next(a for a in sample_articles if a.abstract_sections and a.mesh)
    r = client.get(f"/api/records/{art.pmid}")
    assert r.status_code == 200
    data = r.json()
    assert data["pmid"] == art.pmid and data["title"] == art.title
    assert [m["descriptor"] for m in data["mesh"]] == art.mesh_terms
    assert [list(s) for s in art.abstract_sections] == data["abstract_sections"]
    assert data["topics"] == sorted(topics_for(art.pmid))


def test_record_errors(client: TestClient) -> None:
    r = client.get("/api/records/123456789")
    assert r.status_code == 404 and "123456789" in r.json()["detail"]
    r = client.get("/api/records/not-a-pmid")
    assert r.status_code == 422 and "pmid" in r.json()["detail"]
    assert client.get("/api/records/123456789/similar").status_code == 404
    assert client.get("/api/nothing-here").status_code == 404


def test_similar_records(client: TestClient) -> None:
    pmid = search(client, q="cancer")["results"][0]["pmid"]
    data = client.get(f"/api/records/{pmid}/similar", params={"limit": 5}).json()
    assert 0 < len(data["results"]) <= 5 and data["total"] >= len(data["results"])
    assert pmid not in {r["pmid"] for r in data["results"]}


def test_new_since(client: TestClient, web_settings: Settings) -> None:
    from index.store import RecordStore

    with RecordStore(web_settings.store_path) as store:
        total = store.count()
        ocd = store.count("ocd")
    assert client.get("/api/new", params={"since": "2000-01-01"}).json()["total"] == total
    assert client.get("/api/new", params={"since": "2000-01-01", "topic": "ocd"}).json()[
        "total"] == ocd
    assert client.get("/api/new", params={"since": "2999-01-01"}).json()["total"] == 0
    r = client.get("/api/new", params={"since": "yesterday"})
    assert r.status_code == 422 and "since" in r.json()["detail"]


def test_stats(client: TestClient, web_settings: Settings) -> None:
    from index.store import RecordStore

    data = client.get("/api/stats").json()
    with RecordStore(web_settings.store_path) as store:
        assert data["total"] == store.count()
        assert data["topics"] == {t: store.count(t) for t in ("depression", "ptsd", "ocd")}


# -- export -----------------------------------------------------------------------------------------

def test_export_selection_as_ris_reads_back(client: TestClient) -> None:
    r = client.get("/api/export", params={"format": "ris", "pmids": f"{XSS_PMID},{PLAIN_PMID}"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-research-info-systems")
    assert re.match(r'attachment; filename="ketlit-[0-9-]+\.ris"', r.headers["content-disposition"])
    entries = rispy.loads(r.text)
    titles = [e["title"] for e in entries]
    assert titles[0] == XSS_TITLE  # markup travels as text, unchanged, in the export
    assert "companion" in titles[1]


@pytest.mark.parametrize(("fmt", "ext"), [("ris", "ris"), ("bibtex", "bib"), ("medline", "nbib"),
                                         ("csl-json", "json"), ("csv", "csv"), ("text", "txt")])
def test_every_format_exports_the_whole_search(client: TestClient, fmt: str, ext: str) -> None:
    total = search(client, q="cancer", topic="depression")["total"]
    assert total > 1
    r = client.get("/api/export", params={"format": fmt, "q": "cancer", "topic": "depression"})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith(f'.{ext}"')
    assert r.headers["x-ketlit-records"] == str(total)
    body = r.content.decode("utf-8")
    if fmt == "ris":
        assert len(rispy.loads(body)) == total
    elif fmt == "csl-json":
        assert len(json.loads(body)) == total
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
        assert rows[0][:3] == ["PMID", "Title", "Authors"] and len(rows) == total + 1
    elif fmt == "medline":
        assert len(re.findall(r"^PMID- ", body, re.M)) == total
    elif fmt == "bibtex":
        assert len(re.findall(r"^@\w+\{", body, re.M)) == total
    else:
        assert body.strip()


def test_export_errors(client: TestClient) -> None:
    r = client.get("/api/export", params={"format": "ris"})
    assert r.status_code == 400 and "pmids" in r.json()["detail"]
    r = client.get("/api/export", params={"format": "docx", "pmids": PLAIN_PMID})
    assert r.status_code == 422 and "format" in r.json()["detail"]
    r = client.get("/api/export", params={"format": "ris", "pmids": "12,abc"})
    assert r.status_code == 400 and "abc" in r.json()["detail"]
    r = client.get("/api/export", params={"format": "ris", "pmids": f"{PLAIN_PMID},123456789"})
    assert r.status_code == 404 and "123456789" in r.json()["detail"]


def test_no_index_is_503_with_the_remedy(empty_settings: Settings) -> None:
    with TestClient(create_app(empty_settings)) as c:
        r = c.get("/api/search", params={"q": "cancer"})
        assert r.status_code == 503
        assert re.search(r"harvest|ingest|reindex", r.json()["detail"])
        page = c.get("/", params={"q": "cancer"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert c.get("/").status_code == 200  # the bare page still shows the search box


def test_server_sees_records_committed_while_it_runs(tmp_path) -> None:
    """One long-lived searcher serves every request; a harvest's commit shows up at the next."""
    from index.article import Article
    from index.store import RecordStore
    from index.whoosh.writer import open_index_writer
    from tests.web.conftest import build_data, crafted_articles

    settings, _config = build_data(tmp_path, crafted_articles())
    with TestClient(create_app(settings)) as c:
        assert search(c, q="xenomarkup")["total"] == 2
        assert search(c, q="quokkaketamine")["total"] == 0
        late = Article(pmid="99000003", title="Quokkaketamine arrives in a later harvest",
                       pub_year=2025, publication_types=["Journal Article"])
        with RecordStore(settings.store_path) as store:
            store.upsert([late], topic="ocd")
        with open_index_writer(settings) as session:
            session.upsert([late])
        assert search(c, q="quokkaketamine")["total"] == 1
        assert search(c, q="xenomarkup")["total"] == 2


def test_pages_show_the_last_harvest(tmp_path) -> None:
    from index.store import RecordStore
    from tests.web.conftest import build_data, crafted_articles

    settings, _config = build_data(tmp_path, crafted_articles())
    with TestClient(create_app(settings)) as c:
        assert "Last harvest:\n    never" in c.get("/").text
        with RecordStore(settings.store_path) as store:
            run = store.start_run("depression", "incremental")
            store.finish_run(run, "ok")
            ended = store.last_runs()["depression"].ended
        html = c.get("/new").text
        assert f'<time datetime="{ended}">{ended[:10]} {ended[11:16]} UTC</time>' in html
        assert "2 new records" in html


def test_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {"/api/search", "/api/records/{pmid}",
                                  "/api/records/{pmid}/similar", "/api/export", "/api/stats",
                                  "/api/new"}
    assert "/" not in spec["paths"]
    export_types = set(spec["paths"]["/api/export"]["get"]["responses"]["200"]["content"])
    assert "application/x-research-info-systems" in export_types and "text/csv" in export_types
    search_op = spec["paths"]["/api/search"]["get"]
    assert {p["name"] for p in search_op["parameters"]} >= {
        "q", "topic", "from", "to", "type", "lang", "has_abstract", "no_retracted", "match",
        "sort", "limit", "page"}


# -- the HTML page ---------------------------------------------------------------------------------

def test_page_shows_results_facets_and_escapes_markup(client: TestClient) -> None:
    r = client.get("/", params={"q": "xenomarkup"})
    assert r.status_code == 200
    html = r.text
    assert "<script>window.__xss" not in html and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;window.__xss" in html
    assert 'role="status"' in html and "2 records" in html
    assert "<mark>" in html
    assert "Retracted" in html
    assert "https://doi.org/10.1000/xss.2024.1" in html and "PMC9900001" in html
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    # filter checkboxes carry the facet counts
    assert re.search(r"Ketamine for OCD <span class=\"count\">\(1\)</span>", html)


def test_misspelt_query_offers_a_suggestion(client: TestClient) -> None:
    assert search(client, q="cancre")["suggestion"] == "cancer"
    html = client.get("/", params={"q": "cancre", "topic": "ocd"}).text
    assert 'Did you mean <a href="/?q=cancer&amp;topic=ocd">cancer</a>?' in html


def test_page_url_holds_the_state(client: TestClient) -> None:
    r = client.get("/", params=[("q", "cancer"), ("topic", "ptsd"), ("from", "2010"),
                                ("sort", "newest"), ("limit", "10"), ("page", "2")])
    assert r.status_code == 200
    html = r.text
    assert 'value="cancer"' in html
    assert re.search(r'name="topic" value="ptsd" id="topic-\d+" checked', html)
    assert 'value="newest" selected' in html
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2<' in html


def test_page_past_the_last_links_back(client: TestClient) -> None:
    html = client.get("/", params={"q": "xenomarkup", "page": "9"}).text
    assert "past the last page" in html and 'href="/?q=xenomarkup">go to page 1</a>' in html


def test_page_reports_bad_parameters_and_queries(client: TestClient) -> None:
    r = client.get("/", params={"q": "cancer", "from": "soon"})
    assert r.status_code == 400 and "from: expected a whole number" in r.text
    r = client.get("/", params={"q": "cancer AND (treatment"})
    assert r.status_code == 400 and 'role="alert"' in r.text
    assert client.get("/records/123456789").status_code == 404
    assert client.get("/no/such/page").status_code == 404


def test_record_page(client: TestClient) -> None:
    r = client.get(f"/records/{XSS_PMID}", params={"q": "xenomarkup"})
    assert r.status_code == 200
    html = r.text
    assert "&lt;script&gt;window.__xss" in html and "<script>window" not in html
    assert "<h3>Background</h3>" in html and "<h3>Results</h3>" in html
    assert "Ketamine &lt;em&gt;Study&lt;/em&gt; Group" in html
    assert "Similar articles" in html and 'href="/?q=xenomarkup"' in html
    assert f"/api/export?format=ris&amp;pmids={XSS_PMID}" in html


def test_new_page_and_export_redirects(client: TestClient) -> None:
    r = client.get("/new", params={"since": "2000-01-01"})
    assert r.status_code == 200 and "new records" in r.text
    r = client.get("/export", params=[("scope", "selected"), ("format", "bibtex"),
                                      ("pmids", XSS_PMID), ("pmids", PLAIN_PMID)],
                   follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/api/export?format=bibtex&pmids={XSS_PMID}%2C{PLAIN_PMID}"
    r = client.get("/export", params={"scope": "all", "format": "csv", "q": "x", "topic": "ocd",
                                      "page": "3"}, follow_redirects=False)
    assert r.headers["location"] == "/api/export?format=csv&q=x&topic=ocd"
    r = client.get("/export", params={"scope": "selected", "format": "ris"})
    assert r.status_code == 400 and "Nothing selected" in r.text


# -- browsing without a query, the retracted facet ---------------------------------------------------

def test_api_search_without_q_lists_the_filtered_records(client: TestClient) -> None:
    everything = search(client, limit=1)
    ocd_count = everything["facets"]["topic"]["ocd"]
    data = search(client, q="", topic="ocd", limit=100)
    assert data["total"] == ocd_count > 1
    assert all("ocd" in r["topics"] and r["score"] is None for r in data["results"])
    # newest first (by the record's date, see test_pages_do_not_overlap_and_sort_by_date):
    # nothing to rank by
    assert data["results"] == search(client, topic="ocd", sort="newest", limit=100)["results"]
    newest = [r["year"] for r in data["results"][:5] if r["year"]]
    assert data["facets"]["topic"]["ocd"] == ocd_count  # facets over the browsed set
    assert data["facets"]["retracted"] == {"true": 1, "false": ocd_count - 1}  # the XSS record
    assert search(client, q="*", topic="ocd", limit=100)["results"] == data["results"]
    oldest = [r["year"] for r in search(client, topic="ocd", sort="oldest")["results"][:5]
              if r["year"]]
    assert max(newest) > max(oldest) and min(newest) > min(oldest)


def test_page_with_only_filters_shows_results_and_exports_them(client: TestClient) -> None:
    filters = {"topic": "ocd", "from": "2024"}
    total = search(client, **filters)["total"]
    assert 1 < total <= 100
    r = client.get("/", params={**filters, "limit": "100"})
    assert r.status_code == 200
    html = r.text
    assert f"{total:,} records matching the filters, newest first" in html
    assert "Xenomarkup ketamine" in html and "&lt;script&gt;window.__xss" in html
    assert f"Export all {total:,} results" in html
    assert 'id="retracted-count">(1 retracted in these results)' in html
    # "Export all results" of a filter-only list goes to the API, which exports it whole
    r = client.get("/export", params={"scope": "all", "format": "ris", **filters},
                   follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/api/export?format=ris&topic=ocd&from=2024"
    r = client.get(r.headers["location"])
    assert r.status_code == 200 and r.headers["x-ketlit-records"] == str(total)
    assert len(rispy.loads(r.text)) == total
    # the bare page (no words, no filters) still waits for a query
    assert "Type a query above" in client.get("/").text


def test_page_shows_the_retracted_count_beside_the_filter(client: TestClient) -> None:
    html = client.get("/", params={"q": "xenomarkup"}).text
    assert 'id="retracted-count">(1 retracted in these results)' in html
    html = client.get("/", params={"q": "xenomarkup", "no_retracted": "1"}).text
    assert 'id="retracted-count"' not in html  # left out: nothing to count
    assert search(client, q="xenomarkup", no_retracted="1")["facets"]["retracted"]["true"] == 0


# -- units -----------------------------------------------------------------------------------------

def test_snippet_markup_lets_only_mark_through() -> None:
    assert str(snippet_markup("a <mark>b</mark> &amp; c")) == "a <mark>b</mark> &amp; c"
    assert str(snippet_markup('<script>x</script><mark>y</mark>')) == \
        '&lt;script&gt;x&lt;/script&gt;<mark>y</mark>'
    assert str(snippet_markup('<mark onclick="x">y</mark>')) == '&lt;mark onclick=&quot;x&quot;&gt;y'
    assert str(snippet_markup(None)) == ""


def test_state_round_trips_through_the_url() -> None:
    from starlette.datastructures import QueryParams

    qp = QueryParams("q=a+b&topic=ptsd&topic=ocd&from=2001&to=2005&type=Review&lang=eng"
                     "&has_abstract=1&no_retracted=1&match=any&sort=oldest&limit=50&page=3")
    state = parse_state(qp)
    assert not state.errors
    assert parse_state(QueryParams(state.query_string())) == state
    bad = parse_state(QueryParams("from=2010&to=2000&limit=5000&sort=x"))
    assert (bad.year_from, bad.year_to, bad.limit, bad.sort) == (2000, 2010, 20, "relevance")
    assert len(bad.errors) == 3
    assert parse_pmids(["1,2 3", "2;4"]) == ["1", "2", "3", "4"]


# -- ketlit serve ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_ketlit_serve_binds_loopback_and_answers(web_config, tmp_path) -> None:
    import httpx

    proc = subprocess.Popen([*ketlit_executable(), "--config", str(web_config), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=str(REPO),
                            env={k: v for k, v in os.environ.items() if k != "KETLIT_DEBUG"})
    try:
        line = proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}"
        r = httpx.get(f"{base}/api/stats", timeout=30)
        assert r.status_code == 200 and r.json()["total"] > 0
        # a request naming another host (DNS rebinding) is refused
        r = httpx.get(f"{base}/api/stats", headers={"Host": "evil.example"}, timeout=30)
        assert r.status_code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_listening_socket_is_tcp_so_responses_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY only on accepted sockets whose proto is TCP; a socket made with
    # proto 0 made every keep-alive response wait ~40 ms for a delayed ACK (bench_web found it).
    from search.web.server import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        with socket.create_connection(sock.getsockname()[:2]):
            conn, _addr = sock.accept()
            with conn:
                assert conn.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


@pytest.mark.slow
def test_ketlit_serve_on_a_taken_port_fails_in_one_line(web_config) -> None:
    from tests.helpers import run_ketlit

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        proc = run_ketlit(["serve", "--port", str(port)], web_config, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and f"127.0.0.1:{port}" in proc.stderr
    assert "--port" in proc.stderr


def test_search_page_draws_results_by_year_over_the_whole_result_set(client: TestClient) -> None:
    data = search(client, q="cancer")
    html = client.get("/", params={"q": "cancer", "topic": "ptsd"}).text
    facet_years = search(client, q="cancer", topic="ptsd")["facets"]["year"]
    bars = re.findall(r'data-year="(\d+)" data-count="(\d+)"', html)
    assert bars and {y: int(n) for y, n in bars} == {y: n for y, n in facet_years.items() if n}
    assert sum(int(n) for _y, n in bars) < data["total"]  # the filter applies to the chart too
    y = bars[0][0]
    assert f'href="/?q=cancer&amp;topic=ptsd&amp;from={y}&amp;to={y}"' in html
    assert "<svg" in html and "http://" not in html.split("<svg", 1)[1].split("</svg>")[0]


def test_an_unknown_topic_is_a_400_naming_the_configured_ones(client: TestClient) -> None:
    for path in ("/api/search", "/api/export", "/api/new"):
        params = {"q": "cancer", "topic": "nope"} if path != "/api/new" else {"topic": "nope"}
        if path == "/api/export":
            params["format"] = "ris"
        r = client.get(path, params=params)
        assert r.status_code == 400, (path, r.text)
        assert "no topic named 'nope'" in r.text and "configured topics" in r.text
    page = client.get("/", params={"q": "cancer", "topic": "nope"})
    assert "no topic named" in page.text


def test_one_slow_search_does_not_hold_up_the_others(indexed_settings) -> None:
    import threading

    from search.searcher import SearchRequest
    from search.web.searching import SharedSearcher

    shared = SharedSearcher(indexed_settings, size=2)
    holding, release = threading.Event(), threading.Event()

    def slow() -> None:
        with shared.use():
            holding.set()
            release.wait(30)

    t = threading.Thread(target=slow)
    t.start()
    try:
        assert holding.wait(30)
        answered = threading.Event()

        def normal() -> None:
            with shared.use() as s:
                s.search(SearchRequest(query="cancer"))
            answered.set()

        threading.Thread(target=normal).start()
        # Answered while the slow search still holds its Searcher.
        assert answered.wait(30) and not release.is_set()
    finally:
        release.set()
        t.join()
        shared.close()


def test_hostile_queries_are_refused_cheaply(client: TestClient) -> None:
    for q in ['"a b"~999999999999', "(" * 400 + "ketamine" + ")" * 400]:
        r = client.get("/api/search", params={"q": q})
        assert r.status_code == 400, r.text
        assert "maximum" in r.text or "nested deeper" in r.text
        page = client.get("/", params={"q": q})
        assert page.status_code in (200, 400) and "nternal" not in page.text
    long = client.get("/", params={"q": "ketamine " * 300})
    assert "more than the 2000 allowed" in long.text


def test_a_search_past_its_time_budget_is_an_error_json_and_a_page_message(
        web_settings: Settings) -> None:
    from dataclasses import replace

    from index.settings import SearchSettings

    tight = replace(web_settings, search=SearchSettings(timeout_s=1e-9))
    with TestClient(create_app(tight)) as c:
        r = c.get("/api/search", params={"q": "cancer OR thyroid"})
        assert r.status_code == 400
        assert "search.timeout_s" in r.json()["detail"]
        page = c.get("/", params={"q": "cancer OR thyroid"})
        assert "search.timeout_s" in page.text and "Traceback" not in page.text


# -- rank (issue 15) -------------------------------------------------------------------------------

def test_rank_lexical_is_the_default_and_bad_rank_is_a_422(client: TestClient) -> None:
    assert search(client, q="cancer", rank="lexical") == search(client, q="cancer")
    assert client.get("/api/search", params={"q": "cancer", "rank": "semantic"}).status_code == 422


def test_rank_hybrid_without_the_extra_says_how_to_enable_it(client: TestClient,
                                                             monkeypatch) -> None:
    from search import hybrid

    monkeypatch.setattr(hybrid, "available", lambda: False)
    for path in ("/api/search", "/api/export"):
        r = client.get(path, params={"q": "cancer", "rank": "hybrid", "format": "ris"})
        assert r.status_code == 400, r.text
        assert "pip install -e '.[semantic]'" in r.text
    assert client.get("/api/search", params={"q": "cancer"}).status_code == 200


def test_rank_hybrid_reranks_the_same_matches(client: TestClient) -> None:
    from search import hybrid

    if not hybrid.available():
        pytest.skip(reason="hybrid ranking needs the semantic extra")
    lexical = search(client, q="xenomarkup")
    fused = search(client, q="xenomarkup", rank="hybrid")
    assert fused["total"] == lexical["total"] == 2
    assert {r["pmid"] for r in fused["results"]} == {r["pmid"] for r in lexical["results"]}
    scores = [r["score"] for r in fused["results"]]
    assert all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)
