"""The E-utilities client, through a real socket to the loopback server (never a mocked requests).

Request building is tested as the pure functions it is; everything else is a conversation with
tests/eutils_server.py, whose request log says what really went over the wire.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from datetime import date

import pytest

from harvester.eutils import (
    POST_ABOVE_IDS,
    EutilsClient,
    Interrupted,
    build_efetch,
    build_esearch,
)
from harvester.parse import PubMedParseError, parse_articles
from harvester.ratelimit import RateLimiter
from index.errors import HarvestError
from index.settings import DEFAULT_BASE_URL, PubMedSettings
from tests.eutils_server import FAULT_KINDS

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 5.0}


def settings_for(server, **changes) -> PubMedSettings:
    opts = {"base_url": server.base_url, "email": "lab@example.org", **FAST, **changes}
    return PubMedSettings(**opts)


def client_for(server, rate: float = 1000.0, **changes) -> EutilsClient:
    return EutilsClient(settings_for(server, **changes), RateLimiter(rate))


def some_ids(server, n: int) -> list[str]:
    return server.db.pmids()[:n]


# -- request building (pure) -----------------------------------------------------------------

def test_esearch_request_carries_identity_dates_and_history():
    pm = PubMedSettings(base_url="http://h.example/entrez/eutils", email="a@b.org",
                        api_key="KEY123", tool="ketlit")
    req = build_esearch(pm, "ketamine[tiab]", datetype="crdt", mindate=date(2020, 1, 2),
                        maxdate=date(2020, 12, 31), retmax=9999)
    assert req.method == "GET"
    assert req.url == "http://h.example/entrez/eutils/esearch.fcgi"
    p = dict(req.params)
    assert p == {"db": "pubmed", "term": "ketamine[tiab]", "retmode": "xml", "retstart": "0",
                 "retmax": "9999", "usehistory": "y", "mindate": "2020/01/02",
                 "maxdate": "2020/12/31", "datetype": "crdt", "tool": "ketlit",
                 "email": "a@b.org", "api_key": "KEY123"}
    # no email / key configured: not sent at all (never an empty value)
    bare = dict(build_esearch(PubMedSettings(), "x", usehistory=False).params)
    assert "email" not in bare and "api_key" not in bare and "usehistory" not in bare
    assert bare["tool"] == "ketlit"
    # an open end of the window is filled in: E-utilities wants both
    half = dict(build_esearch(pm, "x", datetype="mdat", mindate=date(2024, 5, 6)).params)
    assert half["maxdate"] == "3000/12/31" and half["mindate"] == "2024/05/06"
    # a long topic query goes in a POST body
    long_term = " OR ".join(f"term{i}[tiab]" for i in range(300))
    assert build_esearch(pm, long_term).method == "POST"


def test_esearch_request_rejects_bad_arguments():
    pm = PubMedSettings()
    with pytest.raises(ValueError):
        build_esearch(pm, "  ")
    with pytest.raises(ValueError):
        build_esearch(pm, "x", mindate=date(2020, 1, 1))  # no datetype
    with pytest.raises(ValueError):
        build_esearch(pm, "x", datetype="dp", mindate=date(2020, 1, 1))


def test_efetch_request_get_post_and_history():
    pm = PubMedSettings(email="a@b.org", batch_size=321)
    ids = [str(i) for i in range(1, POST_ABOVE_IDS + 1)]
    assert build_efetch(pm, ids=ids).method == "GET"
    big = build_efetch(pm, ids=ids + ["999999"])
    assert big.method == "POST" and big.n_ids == POST_ABOVE_IDS + 1
    assert dict(big.params)["id"].startswith("1,2,3,")
    hist = dict(build_efetch(pm, webenv="MCID_abc", query_key="3", retstart=500).params)
    assert hist["WebEnv"] == "MCID_abc" and hist["query_key"] == "3"
    assert hist["retstart"] == "500" and hist["retmax"] == "321"  # batch_size by default
    assert hist["email"] == "a@b.org" and hist["retmode"] == "xml" and hist["db"] == "pubmed"
    for bad in ({}, {"ids": []}, {"ids": ["1"], "webenv": "W", "query_key": "1"},
                {"webenv": "W"}):
        with pytest.raises(ValueError):
            build_efetch(pm, **bad)


# -- conversations with the loopback server -----------------------------------------------------

@pytest.mark.slow
def test_esearch_and_history_efetch(eutils_server):
    c = client_for(eutils_server)
    res = c.esearch("cancer", retmax=20)
    truth = eutils_server.db.pmids_matching("cancer")
    assert res.count == len(truth) and res.ids == truth[:20]
    assert res.webenv.startswith("MCID_") and res.query_key == "1"
    assert res.translation == '"cancer"[All Fields]'
    arts = c.efetch(webenv=res.webenv, query_key=res.query_key, retstart=0, retmax=30,
                    parse=parse_articles)
    assert [a.pmid for a in arts] == truth[:30]
    assert c.requests_made == 2


@pytest.mark.slow
def test_zero_hits_is_an_answer_not_an_error(eutils_server):
    res = client_for(eutils_server).esearch("abcXYZnothing", retmax=100)
    assert res.count == 0 and res.ids == []


@pytest.mark.slow
def test_date_window_search(eutils_server):
    res = client_for(eutils_server).esearch("cancer", datetype="crdt", mindate=date(2015, 1, 1),
                                            maxdate=date(2016, 12, 31), retmax=500)
    assert res.ids == eutils_server.db.pmids_matching("cancer", "crdt", "2015/01/01",
                                                      "2016/12/31")
    assert res.ids


@pytest.mark.slow
def test_tool_email_and_api_key_are_sent(eutils_server):
    c = client_for(eutils_server, api_key="SECRETKEY", tool="ketlit-test")
    c.esearch("cancer")
    c.efetch(ids=["9997"], parse=parse_articles)
    assert len(eutils_server.requests) == 2
    for r in eutils_server.requests:
        assert r.params["tool"] == "ketlit-test"
        assert r.params["email"] == "lab@example.org"
        assert r.params["api_key"] == "SECRETKEY"
        assert r.params["db"] == "pubmed"


@pytest.mark.slow
def test_post_for_more_than_200_ids(make_eutils_server):
    server = make_eutils_server()
    server.db.replicate(600)
    c = client_for(server, batch_size=500)
    ids = some_ids(server, 250)
    res = c.fetch_articles(ids, parse_articles)
    assert sorted(a.pmid for a in res.articles) == sorted(ids) and res.missing == []
    assert [(r.method, r.n_ids) for r in server.requests] == [("POST", 250)]
    c.fetch_articles(ids[:200], parse_articles)
    assert (server.requests[-1].method, server.requests[-1].n_ids) == ("GET", 200)


@pytest.mark.slow
@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_is_retried_and_the_answer_is_right(make_eutils_server, kind):
    server = make_eutils_server(hold_s=1.2)
    c = client_for(server, timeout_s=0.5)
    ids = some_ids(server, 12)
    server.fail_next(2, kind)
    res = c.fetch_articles(ids, parse_articles)
    assert sorted(a.pmid for a in res.articles) == sorted(ids)
    if kind != "short":
        assert [a.pmid for a in res.articles] == ids  # in the order asked
    assert res.missing == []
    assert server.fault_counts[kind] == 2
    if kind != "short":
        assert len(server.requests) == 3  # two failures, then the good answer
    # esearch is retried the same way (a short batch is an efetch fault only)
    if kind != "short":
        server.fail_next(2, kind)
        assert c.esearch("cancer", retmax=5).ids == server.db.pmids_matching("cancer")[:5]
        assert server.fault_counts[kind] == 4


@pytest.mark.slow
def test_a_parse_error_inside_the_loop_is_retried(eutils_server):
    calls = []

    def flaky(body: bytes):
        calls.append(1)
        if len(calls) == 1:
            raise PubMedParseError("pretend the record was cut")
        return parse_articles(body)

    arts = client_for(eutils_server).efetch(ids=["9997"], parse=flaky)
    assert [a.pmid for a in arts] == ["9997"] and len(calls) == 2
    assert len(eutils_server.requests) == 2


@pytest.mark.slow
def test_exhausted_retries_raise_one_clear_line(eutils_server):
    c = client_for(eutils_server, max_retries=2)
    eutils_server.fail_next(3, "http5xx")
    with pytest.raises(HarvestError) as err:
        c.efetch(ids=some_ids(eutils_server, 5), parse=parse_articles)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("efetch of 5 records failed after 3 attempts: last answer HTTP 50")
    assert "(HTML error page from a proxy)" in msg
    assert f"from {eutils_server.base_url}efetch.fcgi" in msg
    assert "run `ketlit harvest` again to resume" in msg
    assert len(eutils_server.requests) == 3


@pytest.mark.slow
def test_error_bodies_exhausted_name_the_error(eutils_server):
    c = client_for(eutils_server, max_retries=1)
    eutils_server.fail_next(2, "error200")
    with pytest.raises(HarvestError, match=r"failed after 2 attempts: last answer HTTP 200 with "
                                           r"<ERROR> 'Search Backend failed"):
        c.esearch("cancer")


@pytest.mark.slow
def test_404_fails_at_once(eutils_server):
    wrong = eutils_server.base_url.replace("/entrez/eutils/", "/eutils/")
    c = EutilsClient(PubMedSettings(base_url=wrong, **FAST), RateLimiter(1000))
    t0 = time.monotonic()
    with pytest.raises(HarvestError, match=r"HTTP 404 .*check pubmed.base_url"):
        c.esearch("cancer")
    assert len(eutils_server.requests) == 1 and time.monotonic() - t0 < 1


@pytest.mark.slow
def test_cap_error_fails_at_once_and_says_to_split(make_eutils_server):
    server = make_eutils_server(cap=50)
    c = client_for(server)
    assert c.esearch("cancer", retmax=50).count > 50  # the count is given in full
    with pytest.raises(HarvestError, match=r"past its esearch cap .*first 50 records.*split the date window"):
        c.esearch("cancer", retstart=60, retmax=10)
    assert len(server.requests) == 2


@pytest.mark.slow
def test_short_batches_are_asked_again_and_removed_ids_reported(eutils_server):
    c = client_for(eutils_server, batch_size=10)
    ids = some_ids(eutils_server, 25)
    gone = ids[3]
    eutils_server.db.remove(gone)
    eutils_server.fail_next(1, "short")
    res = c.fetch_articles(ids + ["1"], parse_articles)
    assert sorted(a.pmid for a in res.articles) == sorted(set(ids) - {gone})
    assert res.missing == [gone, "1"]
    # an id that is really gone is asked twice more, then reported: never forever
    assert len(eutils_server.requests) <= 3 + 2 + 2 + 1
    assert len(eutils_server.requests) >= 3 + 2 + 2
    assert eutils_server.fault_counts["short"] == 1


@pytest.mark.slow
def test_fault_rate_twenty_percent_gives_exactly_the_clean_answer(make_eutils_server):
    server = make_eutils_server(fault_rate=0.2, seed=11, hold_s=1.0)
    c = client_for(server, batch_size=40, timeout_s=0.4, max_retries=8)
    ids = server.db.pmids()
    res = c.fetch_articles(ids, parse_articles)
    assert sorted(a.pmid for a in res.articles) == sorted(ids)
    assert res.missing == []
    assert sum(server.fault_counts.values()) >= 3


def test_connection_refused_ends_in_a_clear_harvest_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/entrez/eutils/"
    c = EutilsClient(PubMedSettings(base_url=url, max_retries=2, **FAST), RateLimiter(1000))
    with pytest.raises(HarvestError) as err:
        c.esearch("cancer")
    assert str(err.value).startswith(f"cannot reach E-utilities at {url}: connection refused")
    assert "check pubmed.base_url or the network" in str(err.value)
    assert c.requests_made == 3


@pytest.mark.slow
def test_timeouts_exhausted_say_so(make_eutils_server):
    server = make_eutils_server(hold_s=1.0)
    c = client_for(server, timeout_s=0.3, max_retries=1)
    server.fail_next(2, "timeout")
    with pytest.raises(HarvestError, match=r"failed after 2 attempts: last attempt: no answer "
                                           r"within pubmed.timeout_s \(ReadTimeout\) from http"):
        c.efetch(ids=["9997"], parse=parse_articles)


@pytest.mark.slow
def test_stop_interrupts_a_backoff_within_a_second(eutils_server):
    stop = threading.Event()
    c = EutilsClient(settings_for(eutils_server, backoff_base_s=30, backoff_max_s=60),
                     RateLimiter(1000), should_stop=stop.is_set)
    eutils_server.fail_next(5, "http5xx")
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(Interrupted):
        c.esearch("cancer")
    assert time.monotonic() - t0 < 1.5
    assert len(eutils_server.requests) == 1


# -- politeness ------------------------------------------------------------------------------

@pytest.mark.slow
def test_never_more_than_three_requests_in_any_second(make_eutils_server):
    server = make_eutils_server(enforce_rate=True)
    limiter = RateLimiter(3)
    # two clients (two topics) sharing the one limiter, from two threads
    clients = [EutilsClient(settings_for(server), limiter) for _ in range(2)]

    def work(c: EutilsClient) -> None:
        for _ in range(4):
            c.esearch("cancer")

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.requests) == 8
    assert server.max_requests_in_any_second() <= 3
    assert all(r.status == 200 for r in server.requests)  # no 429 from the enforcing server
    assert time.monotonic() - t0 >= 7 * 0.37 - 0.05


@pytest.mark.slow
def test_ten_per_second_with_an_api_key(make_eutils_server):
    server = make_eutils_server(enforce_rate=True)
    pm = settings_for(server, api_key="KEY")
    c = EutilsClient(pm, RateLimiter(10.0))
    t0 = time.monotonic()
    for _ in range(15):
        c.esearch("cancer")
    elapsed = time.monotonic() - t0
    # Never over NCBI's 10/s; clearly over the keyless 3/s. (A loaded machine may start a little
    # fewer than 10 in the busiest second, so the lower bound is not 10.)
    assert 4 <= server.max_requests_in_any_second() <= 10
    assert all(r.status == 200 for r in server.requests)
    assert elapsed < 4.0  # 15 requests at 3/s would need at least 4.7 s


# -- the real service (opt-in) --------------------------------------------------------------

@pytest.mark.skipif(os.environ.get("KETLIT_LIVE_NCBI") != "1",
                    reason="talks to NCBI; set KETLIT_LIVE_NCBI=1 to run it")
def test_live_ncbi():
    pm = PubMedSettings(base_url=DEFAULT_BASE_URL, email=os.environ.get("KETLIT_EMAIL"),
                        api_key=os.environ.get("NCBI_API_KEY"), max_retries=3)
    c = EutilsClient(pm, RateLimiter(3))
    res = c.esearch("esketamine[tiab] AND depression[tiab]", datetype="edat",
                    mindate=date(2019, 1, 1), maxdate=date(2019, 12, 31), retmax=20)
    assert res.count > 5 and res.webenv
    fetched = c.fetch_articles(res.ids[:5], parse_articles)
    assert sorted(a.pmid for a in fetched.articles) == sorted(res.ids[:5])


@pytest.mark.slow
def test_stop_abandons_a_request_the_server_sits_on(make_eutils_server):
    server = make_eutils_server(hold_s=5)
    stop = threading.Event()
    c = EutilsClient(settings_for(server, timeout_s=30), RateLimiter(1000),
                     should_stop=stop.is_set)
    server.fail_next(1, "timeout")
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(Interrupted):
        c.efetch(ids=["9997"], parse=parse_articles)
    assert time.monotonic() - t0 < 1.0


class _Notes:
    """A progress reporter that keeps its notes (index.progress.Progress)."""

    live = True

    def __init__(self) -> None:
        self.notes: list[str] = []

    def task(self, label, total=None, unit="records"):
        from index.progress import NullProgress

        return NullProgress().task(label, total, unit)

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.mark.slow
def test_retry_waits_explain_themselves(make_eutils_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    notes = _Notes()
    url = f"http://127.0.0.1:{port}/entrez/eutils/"
    c = EutilsClient(PubMedSettings(base_url=url, max_retries=2, **FAST), RateLimiter(1000),
                     progress=notes)
    with pytest.raises(HarvestError):
        c.esearch("cancer")
    assert len(notes.notes) == 2
    assert re.match(r"PubMed unreachable, try 2 of 3 in \d+ s \(esearch.*connection refused\)",
                    notes.notes[0]), notes.notes
    assert notes.notes[1].startswith("PubMed unreachable, try 3 of 3 in ")
    server = make_eutils_server()
    notes = _Notes()
    c = EutilsClient(settings_for(server), RateLimiter(1000), progress=notes)
    server.fail_next(1, "http429")
    c.esearch("cancer")
    assert notes.notes and notes.notes[0].startswith("PubMed asks us to slow down, try 2 of ")
