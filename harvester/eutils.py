"""The E-utilities client: esearch and efetch against PubMed, politely and patiently.

Three layers, kept apart so each can be read (and tested) on its own:

- request building (``build_esearch``, ``build_efetch``): pure functions from settings and
  arguments to an ``EutilsRequest`` (method, url, params); ``tool``, ``email`` and ``api_key`` go
  into every request, and more than 200 ids go in a POST body, as NCBI asks;
- ``EutilsClient._send``: the one function that does network I/O (``_transport`` runs it after
  the shared rate limiter lets it, in a way a stop request can abandon);
- ``EutilsClient._call``: the retry loop, which judges every answer with harvester.retry's policy
  and runs the caller's parser *inside* the loop, so a truncated or malformed body is asked again
  like any other bad answer and never reaches the caller as data.

Waits (rate limit, backoff) sleep in short slices and give up with ``Interrupted`` as soon as
``should_stop()`` says so, so a SIGTERM ends a harvest within a fraction of a second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from urllib.parse import urlencode

import requests
from lxml import etree

from harvester.ratelimit import RateLimiter
from harvester.retry import (
    STOP_SLICE_S,
    Interrupted,
    RetryPolicy,
    Verdict,
    classify_exception,
    classify_response,
    sleep_interruptibly,
)
from index.article import Article
from index.errors import HarvestError
from index.progress import NullProgress, Progress
from index.settings import PubMedSettings

__all__ = ["ESearchResult", "EutilsClient", "EutilsRequest", "FetchResult", "Interrupted",
           "build_efetch", "build_esearch"]

log = logging.getLogger("ketlit.eutils")  # under "ketlit": harvester/logs.py routes it
T = TypeVar("T")

# NCBI: "use HTTP POST when more than about 200 UIDs are given".
POST_ABOVE_IDS = 200
# Long topic queries also go by POST: some proxies refuse URLs longer than 4-8 KB. (200 eight-digit
# ids take about 2,200 characters once the commas are escaped, so they still fit.)
POST_ABOVE_URL_CHARS = 4000
DATETYPES = ("edat", "crdt", "mdat", "pdat")
# An id left out of an efetch answer is asked for again: the first answer that leaves it out may
# be a short batch; two more clean answers without it mean PubMed no longer has it. (Counting two
# omissions in all would report a real record missing whenever two short batches in a row drop
# it, which at a 20% fault rate happens about once per 20,000 records.)
OMISSIONS_BEFORE_MISSING = 3
# Errors a `parse` callable raises on a body it cannot read (harvester.parse.PubMedParseError is
# a ValueError; lxml's XMLSyntaxError is an LxmlError).
PARSE_ERRORS: tuple[type[BaseException], ...] = (ValueError, etree.LxmlError, SyntaxError)


# -- request building (pure) -----------------------------------------------------------------------

@dataclass(frozen=True)
class EutilsRequest:
    endpoint: str  # "esearch" | "efetch"
    method: str  # "GET" | "POST"
    url: str
    params: tuple[tuple[str, str], ...]  # query string for GET, form body for POST

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    @property
    def n_ids(self) -> int:
        ids = self.param("id")
        return len(ids.split(",")) if ids else 0


def _identify(pubmed: PubMedSettings) -> list[tuple[str, str]]:
    out = [("tool", pubmed.tool)]
    if pubmed.email:
        out.append(("email", pubmed.email))
    if pubmed.api_key:
        out.append(("api_key", pubmed.api_key))
    return out


def _url(pubmed: PubMedSettings, endpoint: str) -> str:
    base = pubmed.base_url if pubmed.base_url.endswith("/") else pubmed.base_url + "/"
    return f"{base}{endpoint}.fcgi"


def _ymd(d: date) -> str:
    return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"


def build_esearch(pubmed: PubMedSettings, term: str, *, datetype: str | None = None,
                  mindate: date | None = None, maxdate: date | None = None, retmax: int = 0,
                  retstart: int = 0, usehistory: bool = True) -> EutilsRequest:
    if not term.strip():
        raise ValueError("esearch needs a non-empty term")
    if retmax < 0 or retstart < 0:
        raise ValueError("retmax and retstart must be 0 or more")
    params: list[tuple[str, str]] = [("db", "pubmed"), ("term", term), ("retmode", "xml"),
                                     ("retstart", str(retstart)), ("retmax", str(retmax))]
    if usehistory:
        params.append(("usehistory", "y"))
    if mindate is not None or maxdate is not None:
        if datetype is None:
            raise ValueError("a date range needs a datetype (edat, crdt, mdat or pdat)")
        # E-utilities wants both ends; an open end is PubMed's whole history or the far future.
        params += [("mindate", _ymd(mindate) if mindate else "1000/01/01"),
                   ("maxdate", _ymd(maxdate) if maxdate else "3000/12/31")]
    if datetype is not None:
        if datetype not in DATETYPES:
            raise ValueError(f"datetype must be one of {', '.join(DATETYPES)}, got {datetype!r}")
        params.append(("datetype", datetype))
    params += _identify(pubmed)
    method = "POST" if len(urlencode(params)) > POST_ABOVE_URL_CHARS else "GET"
    return EutilsRequest("esearch", method, _url(pubmed, "esearch"), tuple(params))


def build_efetch(pubmed: PubMedSettings, *, ids: Sequence[str] | None = None,
                 webenv: str | None = None, query_key: str | None = None, retstart: int = 0,
                 retmax: int | None = None) -> EutilsRequest:
    params: list[tuple[str, str]] = [("db", "pubmed"), ("retmode", "xml")]
    if ids is not None:
        if webenv is not None:
            raise ValueError("efetch takes ids or a history (webenv, query_key), not both")
        clean = [str(i).strip() for i in ids if str(i).strip()]
        if not clean:
            raise ValueError("efetch needs at least one id")
        params.append(("id", ",".join(clean)))
        method = "POST" if len(clean) > POST_ABOVE_IDS else "GET"
    else:
        if not webenv or not query_key:
            raise ValueError("efetch needs ids, or webenv and query_key")
        params += [("WebEnv", webenv), ("query_key", str(query_key)),
                   ("retstart", str(retstart)),
                   ("retmax", str(retmax if retmax is not None else pubmed.batch_size))]
        method = "GET"
    params += _identify(pubmed)
    if method == "GET" and len(urlencode(params)) > POST_ABOVE_URL_CHARS:
        method = "POST"
    return EutilsRequest("efetch", method, _url(pubmed, "efetch"), tuple(params))


# -- answers ---------------------------------------------------------------------------------------

@dataclass
class ESearchResult:
    count: int
    ids: list[str]
    webenv: str | None
    query_key: str | None
    translation: str | None


@dataclass
class FetchResult:
    articles: list[Article]
    missing: list[str]  # ids PubMed no longer has (reported, not errors)


_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def parse_esearch(body: bytes, *, retmax: int = 0, retstart: int = 0) -> ESearchResult:
    """Read an esearch XML answer; ValueError when it is not a usable one (retried)."""
    root = etree.fromstring(body, _XML)
    if root.tag != "eSearchResult":
        raise ValueError(f"<{root.tag}> instead of <eSearchResult>")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise ValueError("esearch answer without a Count")
    count = int(count_text)
    id_list = root.find("IdList")
    ids = [i.text.strip() for i in id_list.iter("Id") if i.text] if id_list is not None else []
    if retmax > 0 and count > retstart and not ids:
        raise ValueError(f"esearch announced Count {count} but listed no ids")
    return ESearchResult(count=count, ids=ids,
                         webenv=(root.findtext("WebEnv") or "").strip() or None,
                         query_key=(root.findtext("QueryKey") or "").strip() or None,
                         translation=root.findtext("QueryTranslation"))


@dataclass(frozen=True)
class _Answer:
    status: int
    content_type: str
    body: bytes


# -- the client ------------------------------------------------------------------------------------

def _who(verdict: Verdict) -> str:
    """'PubMed unreachable' for a network failure, else how PubMed answered."""
    if verdict.reason.startswith("HTTP 429"):
        return "PubMed asks us to slow down"
    if verdict.reason.startswith("HTTP "):
        return "PubMed answered with an error"
    return "PubMed unreachable"


class EutilsClient:
    """esearch/efetch with the shared rate limiter and the retry policy. Thread-safe as far as
    requests.Session is (one client per thread is the simple rule)."""

    def __init__(self, pubmed: PubMedSettings, limiter: RateLimiter,
                 session: requests.Session | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 policy: RetryPolicy | None = None, progress: Progress | None = None) -> None:
        self.pubmed = pubmed
        # Waits explain themselves on a terminal ("PubMed unreachable, try 3 of 7 in 8 s").
        self.progress = progress or NullProgress()
        self.limiter = limiter
        self.session = session if session is not None else requests.Session()
        self.session.headers.setdefault("User-Agent", f"{pubmed.tool} (python-requests)")
        self.should_stop = should_stop
        self.policy = policy if policy is not None else RetryPolicy.from_settings(pubmed)
        self.requests_made = 0
        self._count_lock = threading.Lock()

    # -- public API --
    def esearch(self, term: str, *, datetype: str | None = None, mindate: date | None = None,
                maxdate: date | None = None, retmax: int = 0, retstart: int = 0,
                usehistory: bool = True) -> ESearchResult:
        req = build_esearch(self.pubmed, term, datetype=datetype, mindate=mindate,
                            maxdate=maxdate, retmax=retmax, retstart=retstart,
                            usehistory=usehistory)
        span = ""
        if mindate or maxdate:
            span = f", {datetype} {req.param('mindate')}-{req.param('maxdate')}"
        short = term if len(term) <= 60 else term[:57] + "..."
        what = f"esearch ({short!r}{span}, retstart {retstart})"
        return self._call(req, "eSearchResult", what,
                          lambda body: parse_esearch(body, retmax=retmax, retstart=retstart))

    def efetch(self, *, ids: Sequence[str] | None = None, webenv: str | None = None,
               query_key: str | None = None, retstart: int = 0, retmax: int | None = None,
               parse: Callable[[bytes], T]) -> T:
        req = build_efetch(self.pubmed, ids=ids, webenv=webenv, query_key=query_key,
                           retstart=retstart, retmax=retmax)
        if ids is not None:
            what = f"efetch of {req.n_ids} record{'s' if req.n_ids != 1 else ''}"
        else:
            n = retmax if retmax is not None else self.pubmed.batch_size
            what = f"efetch of {n} records from the search history (from {retstart})"
        return self._call(req, "PubmedArticleSet", what, parse)

    def fetch_articles(self, ids: Sequence[str],
                       parse: Callable[[bytes], list[Article]]) -> FetchResult:
        """efetch ``ids`` in batches of pubmed.batch_size and check each answer against the ids
        asked: ids left out are asked again with backoff (a short batch is a failure, not "no
        records"); an id that two re-asks still leave out is one PubMed no longer has, reported in
        ``missing`` and never asked for again."""
        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        articles: list[Article] = []
        missing: list[str] = []
        seen: set[str] = set()
        size = self.pubmed.batch_size
        for start in range(0, len(wanted), size):
            pending = wanted[start:start + size]
            omitted: dict[str, int] = {}
            round_no = 0
            while pending:
                got = self.efetch(ids=pending, parse=parse)
                asked = set(pending)
                for a in got:
                    if a.pmid in asked and a.pmid not in seen:
                        seen.add(a.pmid)
                        articles.append(a)
                left = [p for p in pending if p not in seen]
                if not left:
                    break
                for p in left:
                    omitted[p] = omitted.get(p, 0) + 1
                gone = [p for p in left if omitted[p] >= OMISSIONS_BEFORE_MISSING]
                missing.extend(gone)
                pending = [p for p in left if omitted[p] < OMISSIONS_BEFORE_MISSING]
                if pending:
                    log.info("efetch answer left out %d of the ids asked; asking again",
                             len(pending))
                    sleep_interruptibly(self.policy.delay(round_no), self.should_stop,
                                        what="waiting to ask again for left-out records")
                    round_no += 1
        return FetchResult(articles=articles, missing=missing)

    # -- network I/O --
    def _transport(self, req: EutilsRequest) -> _Answer:
        """Wait for the rate limiter, then send. With ``should_stop``, the request runs in a helper
        thread so that a stop is obeyed within a fraction of a second even while NCBI is slow to
        answer (a read can otherwise block for pubmed.timeout_s); the abandoned request ends on
        its own at the timeout."""
        self.limiter.wait(self.should_stop)
        with self._count_lock:
            self.requests_made += 1
        if self.should_stop is None:
            return self._send(req)
        box: dict[str, object] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["answer"] = self._send(req)
            except BaseException as exc:  # handed to the waiting thread, which re-raises it
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name=f"eutils-{req.endpoint}", daemon=True).start()
        while not done.wait(STOP_SLICE_S):
            if self.should_stop():
                raise Interrupted(f"stopped while waiting for the answer to {req.endpoint}")
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["answer"]  # type: ignore[return-value]

    def _send(self, req: EutilsRequest) -> _Answer:
        """The one function that talks to the network."""
        if req.method == "POST":
            resp = self.session.post(req.url, data=list(req.params), timeout=self.pubmed.timeout_s)
        else:
            resp = self.session.get(req.url, params=list(req.params),
                                    timeout=self.pubmed.timeout_s)
        return _Answer(resp.status_code, resp.headers.get("Content-Type", ""), resp.content)

    # -- retry loop --
    def _call(self, req: EutilsRequest, expect_root: str, what: str,
              interpret: Callable[[bytes], T]) -> T:
        last: Verdict | None = None
        attempts = self.policy.attempts
        for attempt in range(attempts):
            if self.should_stop is not None and self.should_stop():
                raise Interrupted(f"stopped before {what}")
            try:
                answer = self._transport(req)
            except requests.RequestException as exc:
                verdict = classify_exception(exc)
            else:
                verdict = classify_response(answer.status, answer.content_type, answer.body,
                                            expect_root)
                if verdict.ok:
                    try:
                        return interpret(answer.body)
                    except PARSE_ERRORS as exc:
                        verdict = Verdict.retry(f"HTTP {answer.status} with XML that could not "
                                                f"be read ({_one_line(exc)})")
            if not verdict.retryable:
                raise HarvestError(self._fatal_message(req, what, verdict))
            last = verdict
            log.warning("%s: attempt %d of %d failed: %s", what, attempt + 1, attempts,
                        verdict.reason)
            if attempt + 1 < attempts:
                delay = self.policy.delay(attempt)
                self.progress.note(f"{_who(verdict)}, try {attempt + 2} of {attempts} in "
                                   f"{delay:.0f} s ({what}: {verdict.reason})")
                sleep_interruptibly(delay, self.should_stop, what=f"waiting to retry {what}")
        assert last is not None
        raise HarvestError(self._exhausted_message(req, what, last, attempts))

    def _fatal_message(self, req: EutilsRequest, what: str, verdict: Verdict) -> str:
        if verdict.cap:
            return (f"{what} failed: PubMed will not list records past its esearch cap "
                    f"(retstart {req.param('retstart')}, retmax {req.param('retmax')}): "
                    f"{verdict.reason}; split the date window so each search returns fewer records")
        if verdict.reason.startswith("HTTP 404"):
            return (f"{what} failed: {verdict.reason} from {req.url}; check pubmed.base_url "
                    "(the E-utilities base, ending in /entrez/eutils/)")
        return (f"{what} failed: {verdict.reason} from {req.url}; this answer does not change "
                "by asking again, so it was not retried")

    def _exhausted_message(self, req: EutilsRequest, what: str, last: Verdict,
                           attempts: int) -> str:
        if last.refused:
            return (f"cannot reach E-utilities at {self.pubmed.base_url}: {last.reason} "
                    f"(after {attempts} attempts); check pubmed.base_url or the network")
        last_try = (f"last answer {last.reason}" if last.reason.startswith("HTTP")
                    else f"last attempt: {last.reason}")
        return (f"{what} failed after {attempts} attempts: {last_try} from "
                f"{req.url}; batches committed so far are kept - run `ketlit harvest` again to "
                "resume")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
