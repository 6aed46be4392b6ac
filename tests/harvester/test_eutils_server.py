"""The loopback E-utilities server answers like NCBI does: shapes, cap, history, faults, politeness.

Spoken to with plain requests (the harvester's client has its own tests), so a mistake in the
server cannot hide behind a matching mistake in the client.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
import requests
from lxml import etree

from tests.eutils_server import FAULT_KINDS, RecordDB, load_base, parse_term
from tests.helpers import PUBMED_DATA, REPO

REAL = PUBMED_DATA / "eutils-responses" / "biopython" / "Tests" / "Entrez"


def esearch(server, **params):
    params = {"db": "pubmed", **params}
    return requests.get(server.base_url + "esearch.fcgi", params=params, timeout=10)


def efetch(server, method="GET", **params):
    params = {"db": "pubmed", "retmode": "xml", **params}
    if method == "POST":
        return requests.post(server.base_url + "efetch.fcgi", data=params, timeout=10)
    return requests.get(server.base_url + "efetch.fcgi", params=params, timeout=10)


def ids_of(body: bytes) -> list[str]:
    return [e.text for e in etree.fromstring(body).iter("Id")]


def pmids_of(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [(r.findtext("MedlineCitation/PMID") or r.findtext("BookDocument/PMID"))
            for r in root if r.tag in ("PubmedArticle", "PubmedBookArticle")]


# -- the record database ---------------------------------------------------------------------

def test_database_holds_every_shared_record_once_newest_version():
    base = load_base()
    pmids = [c.pmid for c in base]
    assert len(pmids) == len(set(pmids)) == 388  # MANIFEST: 392 elements, 388 unique PMIDs
    by = {c.pmid: c for c in base}
    # 12091962 is in the 2008 file (DateCreated) and the 2025 one: the 2025 version is served.
    assert b'<PMID Version="1">12091962</PMID>' in by["12091962"].xml
    assert b"<DateCreated>" not in by["12091962"].xml
    assert by["20821847"].xml.startswith(b"<PubmedBookArticle")


def test_create_date_comes_from_the_entrez_history_date():
    by = {c.pmid: c for c in load_base()}
    xml = by["29963580"].xml
    m = re.search(rb'<PubMedPubDate PubStatus="entrez">\s*<Year>(\d+)</Year>\s*<Month>(\d+)'
                  rb"</Month>\s*<Day>(\d+)</Day>", xml)
    assert m, "expected an entrez date in the record"
    assert by["29963580"].crdt == date(int(m[1]), int(m[2]), int(m[3]))


def test_clone_revise_remove_and_ground_truth():
    db = RecordDB.from_shared()
    n = len(db)
    db.add_clone("12091962", "90000001", crdt=date(2024, 3, 5))
    assert len(db) == n + 1
    xml = db.record_xml("90000001")
    assert b">90000001</PMID>" in xml and b">12091962</PMID>" not in xml.split(b"</PMID>")[0] + b"</PMID>"
    assert b'<PubMedPubDate PubStatus="entrez"><Year>2024</Year><Month>3</Month><Day>5</Day>' in xml
    assert db.pmids_matching("2024/03/05[crdt]") == ["90000001"]
    assert db.pmids_matching("*", "crdt", date(2024, 3, 1), date(2024, 3, 31)) == []
    assert db.pmids_matching("correctional", "crdt", "2024/03", "2024/03") == ["90000001"]

    assert db.pmids_matching("zzyzxketamineword") == []
    db.revise("90000001", date(2025, 1, 2),
              lambda b: b.replace(b"</ArticleTitle>", b" zzyzxketamineword</ArticleTitle>"))
    assert db.pmids_matching("zzyzxketamineword[ti]") == ["90000001"]
    assert db.pmids_matching("zzyzxketamineword", "mdat", "2025/01/02", "2025/01/02") == [
        "90000001"]
    assert b"<DateRevised><Year>2025</Year><Month>01</Month><Day>02</Day></DateRevised>" in \
        db.record_xml("90000001")
    # the source record is untouched
    assert db.pmids_matching("zzyzxketamineword") == ["90000001"]
    db.remove("90000001")
    assert db.pmids_matching("zzyzxketamineword") == []
    assert db.record_xml("90000001") is None


def test_replicate_makes_dense_windows_quickly():
    db = RecordDB.from_shared()
    t0 = time.perf_counter()
    new = db.replicate(20000)
    assert len(db) == 20000 and len(new) == 20000 - 388
    assert time.perf_counter() - t0 < 5
    # ~1.3 records a day over 2000-2025: a month holds a few dozen
    month = db.pmids_matching("*", "crdt", "2010/06", "2010/06")  # '*' alone matches nothing
    assert month == []
    every = db.pmids_matching("a OR the OR of OR in", "crdt", "2010/06", "2010/06")
    assert 20 < len(every) < 80


# -- the term language ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def db():
    return RecordDB.from_shared()


def test_boolean_operators_phrases_truncation_and_tags(db):
    cancer = set(db.pmids_matching("cancer"))
    tumor = set(db.pmids_matching("tumor"))
    assert cancer and tumor
    assert set(db.pmids_matching("cancer OR tumor")) == cancer | tumor
    assert set(db.pmids_matching("cancer and tumor")) == cancer & tumor
    assert set(db.pmids_matching("cancer tumor")) == cancer & tumor  # side by side: AND
    assert set(db.pmids_matching("cancer NOT tumor")) == cancer - tumor
    # PubMed applies operators left to right; parentheses change that
    mice = set(db.pmids_matching("mice"))
    assert set(db.pmids_matching("cancer OR tumor AND mice")) == (cancer | tumor) & mice
    assert set(db.pmids_matching("cancer OR (tumor AND mice)")) == cancer | (tumor & mice)
    # truncation is a prefix match
    assert set(db.pmids_matching("tumor*")) >= tumor
    assert set(db.pmids_matching("tumo*")) > tumor
    # a quoted phrase needs the words in that order
    rct = set(db.pmids_matching('"randomized controlled trial"[pt]'))
    assert rct and rct <= set(db.pmids_matching("randomized[pt] AND trial[pt]"))
    assert not db.pmids_matching('"trial controlled randomized"[pt]')
    # [ti] is narrower than [tiab] is narrower than all fields
    ti, tiab = set(db.pmids_matching("cancer[ti]")), set(db.pmids_matching("cancer[tiab]"))
    assert ti < tiab <= cancer
    assert set(db.pmids_matching("Humans[mh]")) > set(db.pmids_matching("Humans[majr]"))
    # an unknown tag searches all text
    assert set(db.pmids_matching("cancer[xyz]")) == cancer


def test_unquoted_words_before_a_tag_are_one_phrase(db):
    # PubMed: "If you use a search tag, PubMed searches the words as a phrase"
    assert parse_term("randomized controlled trial[pt]").translation() == \
        '"randomized controlled trial"[Publication Type]'
    assert db.pmids_matching("randomized controlled trial[pt]") == \
        db.pmids_matching('"randomized controlled trial"[pt]')
    assert db.pmids_matching("trial controlled randomized[pt]") == []
    # ...but not across an operator, and a date tag takes only its own range
    assert parse_term("cancer AND heart attack[tiab]").translation() == \
        '("cancer"[All Fields] AND "heart attack"[Title/Abstract])'
    assert parse_term("cancer 2015[dp]").translation() == \
        '("cancer"[All Fields] AND 2015/01/01:2015/12/31[Date - Publication])'


def test_real_topic_query_syntax_parses(db):
    q = ('("Ketamine"[Mesh] OR ketamin*[tiab] OR esketamine[tiab] OR arketamine[tiab]) AND '
         '("Depressive Disorder, Treatment-Resistant"[Mesh] OR "Depression"[Mesh] OR '
         'depress*[tiab] OR "suicidal ideation"[tiab]) NOT (animals[mh] NOT humans[mh])')
    node = parse_term(q)
    assert "Title/Abstract" in node.translation() and "MeSH Terms" in node.translation()
    assert db.pmids_matching(q) == []  # the shared data holds no ketamine record
    d = db.pmids_matching("depress*[tiab] NOT preprint[Filter]")
    assert d == db.pmids_matching("depress*[tiab]")


def test_date_ranges_in_the_term(db):
    crdt = db.pmids_matching("cancer", "crdt", "2015/01/01", "2016/12/31")
    assert crdt
    assert db.pmids_matching("cancer AND 2015/01/01:2016/12/31[crdt]") == crdt
    assert db.pmids_matching('cancer AND "2015/01/01"[crdt] : "2016/12/31"[crdt]') == crdt
    assert db.pmids_matching("cancer AND 2015:2016[edat]") == crdt
    for p in crdt:
        assert date(2015, 1, 1) <= db.entry(p).crdt <= date(2016, 12, 31)


# -- esearch ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_esearch_answer_is_shaped_like_the_real_one(eutils_server):
    r = esearch(eutils_server, term="cancer", usehistory="y", retmax=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert r.headers["X-RateLimit-Limit"] == "3"
    real = (REAL / "esearch2.xml").read_bytes()
    # same prologue, byte for byte, and the same element order
    assert r.content.split(b"<eSearchResult>")[0] == real.split(b"<eSearchResult>")[0]
    order = re.findall(rb"<(Count|RetMax|RetStart|QueryKey|WebEnv|IdList|TranslationSet|"
                       rb"QueryTranslation)\b", r.content)
    assert order == re.findall(rb"<(Count|RetMax|RetStart|QueryKey|WebEnv|IdList|"
                               rb"TranslationSet|QueryTranslation)\b", real)
    root = etree.fromstring(r.content)
    assert re.fullmatch(r"MCID_[0-9a-f]{24}", root.findtext("WebEnv"))
    assert root.findtext("QueryKey") == "1"
    ids = ids_of(r.content)
    assert len(ids) == 5 and int(root.findtext("Count")) > 5
    assert ids == sorted(ids, key=int, reverse=True)  # PubMed's default order: newest first
    assert ids == eutils_server.db.pmids_matching("cancer")[:5]


@pytest.mark.slow
def test_zero_hits_look_like_esearch8(eutils_server):
    r = esearch(eutils_server, term="abcXYZ")
    real = (REAL / "esearch8.xml").read_bytes()
    assert r.status_code == 200
    tail = lambda b: b[b.index(b"<eSearchResult>"):].replace(b'"abcxyz"', b"abcXYZ")  # noqa: E731
    assert re.sub(rb"<QueryTranslation>.*</QueryTranslation>", b"", tail(r.content)) == \
        re.sub(rb"<QueryTranslation>.*</QueryTranslation>", b"", tail(real))


@pytest.mark.slow
def test_esearch_paging_dates_post_and_json(eutils_server):
    full = eutils_server.db.pmids_matching("cancer")
    r = esearch(eutils_server, term="cancer", retstart=10, retmax=7)
    assert ids_of(r.content) == full[10:17]
    r = requests.post(eutils_server.base_url + "esearch.fcgi",
                      data={"db": "pubmed", "term": "cancer", "retmax": 500}, timeout=10)
    assert ids_of(r.content) == full
    r = esearch(eutils_server, term="cancer", datetype="crdt", mindate="2015", maxdate="2016",
                retmax=500)
    assert ids_of(r.content) == eutils_server.db.pmids_matching("cancer", "crdt", "2015", "2016")
    assert b"2015/01/01:2016/12/31[Date - Create]" in r.content
    r = esearch(eutils_server, term="cancer", retmode="json", retmax=3)
    doc = json.loads(r.content)["esearchresult"]
    assert doc["count"] == str(len(full)) and doc["idlist"] == full[:3]


@pytest.mark.slow
def test_the_cap(make_eutils_server):
    server = make_eutils_server(cap=50)
    full = server.db.pmids_matching("cancer")
    assert len(full) > 60
    # Count in full, ids never past the cap
    r = esearch(server, term="cancer", retmax=50)
    assert etree.fromstring(r.content).findtext("Count") == str(len(full))
    assert ids_of(r.content) == full[:50]
    # retstart past the cap: an <ERROR> at HTTP 200, like PubMed's
    r = esearch(server, term="cancer", retstart=60, retmax=10)
    assert r.status_code == 200
    err = etree.fromstring(r.content).findtext("ERROR")
    assert err.startswith("Search Backend failed: Exception:")
    assert "'retstart' cannot be larger than 49" in err
    # strict (default): a page that would cross the cap is refused too
    r = esearch(server, term="cancer", retstart=40, retmax=20)
    assert b"<ERROR>" in r.content
    # clamp: PubMed's quiet behaviour
    clamp = make_eutils_server(cap=50, cap_mode="clamp")
    r = esearch(clamp, term="cancer", retstart=40, retmax=20)
    assert ids_of(r.content) == full[40:50]
    # the history holds only what the cap lets through
    r = esearch(server, term="cancer", retmax=0, usehistory="y")
    root = etree.fromstring(r.content)
    f = efetch(server, WebEnv=root.findtext("WebEnv"), query_key="1", retstart=0, retmax=500)
    assert pmids_of(f.content) == full[:50]


# -- efetch ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_efetch_by_ids_get_and_post_in_the_order_asked(eutils_server):
    asked = ["9997", "1", "29963580", "12091962", "20821847"]
    for method in ("GET", "POST"):
        r = efetch(eutils_server, method, id=",".join(asked))
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/xml; charset=UTF-8"
        assert r.content.startswith(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC '
                                    b'"-//NLM//DTD PubMedArticle, 1st January 2025//EN"')
        assert pmids_of(r.content) == ["9997", "29963580", "12091962", "20821847"]
    assert [q.method for q in eutils_server.requests] == ["GET", "POST"]
    assert eutils_server.requests[1].n_ids == 5


@pytest.mark.slow
def test_efetch_serves_the_original_record_bytes(eutils_server):
    r = efetch(eutils_server, id="28775130")
    served = r.content.split(b"<PubmedArticleSet>\n")[1].split(b"\n</PubmedArticleSet>")[0]
    src = (PUBMED_DATA / "efetch-xml/biopython/Tests/Entrez/pubmed5.xml").read_bytes()
    a = etree.fromstring(served)
    b = etree.fromstring(src).find("PubmedArticle")
    assert etree.tostring(a, method="c14n") == etree.tostring(b, method="c14n")


@pytest.mark.slow
def test_efetch_from_history_and_unknown_webenv(eutils_server):
    r = esearch(eutils_server, term="cancer", usehistory="y", retmax=0)
    root = etree.fromstring(r.content)
    webenv, key = root.findtext("WebEnv"), root.findtext("QueryKey")
    full = eutils_server.db.pmids_matching("cancer")
    f = efetch(eutils_server, WebEnv=webenv, query_key=key, retstart=5, retmax=10)
    assert pmids_of(f.content) == full[5:15]
    # a second search on the same WebEnv gets the next query_key
    r2 = esearch(eutils_server, term="tumor", usehistory="y", WebEnv=webenv, retmax=0)
    assert etree.fromstring(r2.content).findtext("QueryKey") == "2"
    bad = efetch(eutils_server, WebEnv="MCID_000000000000000000000000", query_key="1")
    assert bad.status_code == 400
    assert etree.fromstring(bad.content).tag == "eFetchResult"
    assert etree.fromstring(bad.content).findtext("ERROR") == "Unable to obtain query #1"


@pytest.mark.slow
def test_removed_record_is_silently_omitted(eutils_server):
    eutils_server.db.remove("9997")
    r = efetch(eutils_server, id="9997,12091962")
    assert pmids_of(r.content) == ["12091962"]
    assert "9997" not in ids_of(esearch(eutils_server, term="9997[xx] OR the", retmax=500).content)


@pytest.mark.slow
def test_bad_parameters_get_ncbis_error_bodies(eutils_server):
    r = esearch(eutils_server, term="  ")
    assert r.status_code == 400
    assert etree.fromstring(r.content).findtext("ERROR") == "Empty term and query_key - nothing todo"
    r = efetch(eutils_server, db="nothing", id="9997")
    assert etree.fromstring(r.content).findtext("ERROR") == "Invalid db name specified: nothing"
    r = efetch(eutils_server)
    assert etree.fromstring(r.content).findtext("ERROR") == "Empty id list - nothing todo"


@pytest.mark.slow
def test_wrong_path_is_404_html(eutils_server):
    r = requests.get(eutils_server.base_url.replace("/entrez/eutils/", "/nope/") + "efetch.fcgi",
                     timeout=10)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")


# -- faults ----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_does_what_it_says(make_eutils_server, kind):
    server = make_eutils_server(hold_s=1.5)
    server.fail_next(1, kind)
    ids = "9997,12091962,29963580,28775130"
    try:
        r = requests.get(server.base_url + "efetch.fcgi",
                         params={"db": "pubmed", "id": ids}, timeout=1.0)
    except requests.exceptions.ReadTimeout:
        assert kind == "timeout"
    except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError):
        assert kind == "reset"
    else:
        assert kind not in ("timeout", "reset")
        if kind == "http429":
            assert r.status_code == 429 and "Retry-After" not in r.headers
            body = r.json()
            assert body["error"] == "API rate limit exceeded" and body["limit"] == "3"
            assert body["api-key"] == "127.0.0.1"
        elif kind == "http5xx":
            assert r.status_code in (500, 502, 503) and b"<html" in r.content
        elif kind == "html200":
            assert r.status_code == 200 and b"WWW Error Blocked Diagnostic" in r.content
        elif kind in ("error200", "error400"):
            assert r.status_code == (200 if kind == "error200" else 400)
            assert etree.fromstring(r.content).findtext("ERROR").startswith("Search Backend")
        elif kind == "truncated":
            assert r.status_code == 200 and not r.content.rstrip().endswith(b"</PubmedArticleSet>")
            with pytest.raises(etree.XMLSyntaxError):
                etree.fromstring(r.content)
        elif kind == "short":
            got = pmids_of(r.content)
            assert 0 < len(ids.split(",")) - len(got) <= 2 and set(got) < set(ids.split(","))
    assert server.fault_counts[kind] == 1
    # the next request is clean again
    r = requests.get(server.base_url + "efetch.fcgi", params={"db": "pubmed", "id": ids},
                     timeout=5)
    assert len(pmids_of(r.content)) == 4


@pytest.mark.slow
def test_random_faults_are_seeded_and_counted(make_eutils_server):
    def run(seed):
        server = make_eutils_server(fault_rate=0.5, faults=["http5xx", "error200", "short"],
                                    seed=seed)
        out = []
        for _ in range(30):
            r = requests.get(server.base_url + "efetch.fcgi",
                             params={"db": "pubmed", "id": "9997,12091962,29963580"}, timeout=5)
            out.append(r.status_code)
        return out, dict(server.fault_counts)

    a, counts = run(7)
    assert a == run(7)[0]
    assert 5 <= sum(counts.values()) <= 25 and set(counts) <= {"http5xx", "error200", "short"}
    with pytest.raises(ValueError):
        make_eutils_server(faults=["nonsense"])


# -- politeness ------------------------------------------------------------------------------

@pytest.mark.slow
def test_request_log_and_rate_enforcement(make_eutils_server):
    server = make_eutils_server(enforce_rate=True)
    codes = [esearch(server, term="cancer", tool="t", email="e@x").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    assert server.max_requests_in_any_second() == 6
    r = [q for q in server.requests if q.status == 429][0]
    assert r.params["tool"] == "t" and r.params["email"] == "e@x" and r.endpoint == "esearch.fcgi"
    # with an API key the limit is 10
    server.reset_log()
    time.sleep(1.1)
    codes = [esearch(server, term="cancer", api_key="k").status_code for _ in range(10)]
    assert codes == [200] * 10
    assert esearch(server, term="cancer", api_key="k").headers["X-RateLimit-Limit"] == "10"


@pytest.mark.slow
def test_standalone_server_prints_its_url_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "tests.eutils_server", "--port", "0",
                             "--cap", "100", "--replicate", "1000"], cwd=str(REPO),
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/entrez/eutils/", url)
        r = requests.get(url + "esearch.fcgi", params={"db": "pubmed", "term": "the OR a"},
                         timeout=10)
        assert int(etree.fromstring(r.content).findtext("Count")) > 500
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
