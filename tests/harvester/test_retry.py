"""The retry policy judged on real NCBI bodies: what is an error, what is worth asking again."""

from __future__ import annotations

import random
import time

import pytest
import requests

from harvester.retry import (
    Interrupted,
    RetryPolicy,
    classify_exception,
    classify_response,
    error_message,
    root_tag,
    sleep_interruptibly,
)
from index.settings import PubMedSettings
from tests.eutils_server import html_page
from tests.helpers import PUBMED_DATA

ENTREZ = PUBMED_DATA / "eutils-responses" / "biopython" / "Tests" / "Entrez"
EFETCH = PUBMED_DATA / "efetch-xml"
XML = "text/xml; charset=UTF-8"


def real(name: str) -> bytes:
    return (ENTREZ / name).read_bytes()


def test_good_real_answers_are_ok():
    for name in ("esearch1.xml", "esearch2.xml", "esearch3.xml", "esearch8.xml"):
        v = classify_response(200, XML, real(name), "eSearchResult")
        assert v.ok, (name, v.reason)
    body = (EFETCH / "biopython/Tests/Entrez/pubmed1.xml").read_bytes()
    assert classify_response(200, XML, body, "PubmedArticleSet").ok
    # an empty efetch answer is a good answer (the id is simply not there)
    empty = (EFETCH / "metapub/tests/fixtures/pmid_xml/37909814.xml").read_bytes()
    assert classify_response(200, XML, empty, "PubmedArticleSet").ok
    assert classify_response(200, XML, b"<?xml version='1.0'?>\n<PubmedArticleSet/>\n",
                             "PubmedArticleSet").ok
    # a byte-order mark before the declaration
    bom = (EFETCH / "sr-project/test-files/pubmed_result.xml").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    assert classify_response(200, XML, bom, "PubmedArticleSet").ok


def test_espell_empty_error_is_not_an_error():
    body = real("espell.xml")
    assert error_message(body) is None
    assert classify_response(200, XML, body, "eSpellResult").ok


@pytest.mark.parametrize("name,message", [
    ("epost2.xml", "Invalid db name specified: nothing"),
    ("epost3.xml", "Empty ID list; Nothing to store"),
    ("esummary8.xml", "Neither query_key nor id specified"),
])
def test_error_bodies_at_200_and_400_are_retried(name, message):
    body = real(name)
    assert error_message(body) == message
    for status in (200, 400):
        v = classify_response(status, XML, body, "eSearchResult")
        assert not v.ok and v.retryable, v
        assert message in v.reason and f"HTTP {status}" in v.reason


def test_cap_error_fails_at_once():
    body = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult>\n\t<ERROR>Search Backend '
            b"failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, ESearch can "
            b"only retrieve the first 9,999 records matching the query.</ERROR>\n</eSearchResult>")
    v = classify_response(200, XML, body, "eSearchResult")
    assert not v.ok and not v.retryable and v.cap
    old = b"<eSearchResult><ERROR>Search Backend failed: Exception: Position 15000 is out of " \
          b"acceptable range</ERROR></eSearchResult>"
    assert classify_response(200, XML, old, "eSearchResult").cap


@pytest.mark.parametrize("status", [200, 500, 502, 503])
def test_html_pages_are_retried_at_any_status(status):
    v = classify_response(status, "text/html; charset=UTF-8", html_page(status), "eSearchResult")
    assert v.retryable and "HTML" in v.reason
    # also when the proxy says it is XML
    assert classify_response(status, XML, html_page(status), "PubmedArticleSet").retryable


def test_statuses():
    ok = real("esearch1.xml")
    assert classify_response(429, "application/json",
                             b'{"error":"API rate limit exceeded","api-key":"1.2.3.4",'
                             b'"count":"5","limit":"3"}', "eSearchResult").retryable
    assert classify_response(503, "text/plain", b"", "eSearchResult").retryable
    assert classify_response(408, "text/plain", b"timeout", "eSearchResult").retryable
    v404 = classify_response(404, "text/plain", b"not found", "eSearchResult")
    assert not v404.retryable and "404" in v404.reason
    assert not classify_response(404, "text/html", html_page(404), "eSearchResult").retryable
    assert not classify_response(414, "text/plain", b"URI too long", "eSearchResult").retryable
    assert not classify_response(403, "text/plain", b"", "eSearchResult").retryable
    assert classify_response(200, XML, ok, "eSearchResult").ok


def test_bad_bodies_at_200_are_retried():
    good = (EFETCH / "biopython/Tests/Entrez/pubmed1.xml").read_bytes()
    cases = {
        "truncated": good[: len(good) // 2],
        "json error": b'{"esearchresult": {"ERROR": "Search Backend failed"}}',
        "json": b'{"header": {}}',
        "plain text": b"Service busy, try later",
        "empty": b"   ",
        "wrong root": real("esearch1.xml"),
        "cut after an empty element": good[: good.index(b"<Abstract>")] + b"<Abstract/>",
    }
    for what, body in cases.items():
        v = classify_response(200, XML, body, "PubmedArticleSet")
        assert not v.ok and v.retryable, what


def test_root_tag():
    assert root_tag(real("esearch2.xml")) == "eSearchResult"
    assert root_tag(b"\xef\xbb\xbf  <!-- c --><?pi x?><a/>") == "a"
    assert root_tag(b"hello") is None
    assert root_tag(b"<?xml version='1.0'?>") is None


def test_transport_failures_are_retryable():
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    v = classify_exception(refused)
    assert v.retryable and v.refused and "refused" in v.reason
    assert classify_exception(requests.ReadTimeout("read timed out")).retryable
    assert classify_exception(requests.ConnectTimeout("x")).retryable
    broken = classify_exception(requests.exceptions.ChunkedEncodingError("IncompleteRead"))
    assert broken.retryable and not broken.refused
    reset = classify_exception(requests.ConnectionError(ConnectionResetError(104, "reset")))
    assert reset.retryable and not reset.refused
    assert not classify_exception(requests.exceptions.InvalidURL("bad")).retryable


def test_backoff_grows_with_jitter_and_is_capped():
    p = RetryPolicy(max_retries=6, base_s=1.0, max_s=10.0, rng=random.Random(1))
    assert p.attempts == 7
    for attempt, low in enumerate([1, 2, 4, 8]):
        d = [p.delay(attempt) for _ in range(50)]
        assert all(low <= x <= min(10.0, low + 1.0) for x in d)
        if low + 1 <= 10:
            assert len(set(d)) > 40  # jitter
    assert p.delay(5) == 10.0 and p.delay(60) == 10.0
    s = RetryPolicy.from_settings(PubMedSettings(max_retries=2, backoff_base_s=0.5,
                                                 backoff_max_s=3))
    assert (s.attempts, s.base_s, s.max_s) == (3, 0.5, 3)


def test_sleep_is_interruptible():
    t0 = time.monotonic()
    calls = []

    def stop() -> bool:
        calls.append(1)
        return time.monotonic() - t0 > 0.25

    with pytest.raises(Interrupted):
        sleep_interruptibly(30, stop)
    assert time.monotonic() - t0 < 1.0 and len(calls) >= 2
    t0 = time.monotonic()
    sleep_interruptibly(0.2, lambda: False)
    assert 0.19 <= time.monotonic() - t0 < 0.5
