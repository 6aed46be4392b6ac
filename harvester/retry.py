"""The written-down retry policy for E-utilities: what a failed answer looks like, which failures
are worth asking again, and how long to wait in between.

NCBI fails in many ways that do not look like failures: an ``<ERROR>`` element at HTTP 200 or 400,
an HTML page from a proxy (at 200 as well as 5xx), a JSON error body, a connection reset, a body cut
short. Every one of those is retried, never taken as "no records" and never kept as data. A few
answers are final and fail at once, because asking again cannot help: 404 (a wrong
``pubmed.base_url``), other 4xx without an ``<ERROR>`` body, and esearch's refusal to page past its
9,999-record cap (the caller must split its date window instead).

Kept free of I/O so that the policy can be read and tested on its own; harvester.eutils applies it.
"""

from __future__ import annotations

import errno
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from index.errors import KetlitError
from index.settings import PubMedSettings


class Interrupted(KetlitError):
    """A stop was asked for (SIGTERM, Ctrl-C) while a request or a wait was pending.

    Not a HarvestError on purpose: a harvest that catches HarvestError to go on with the next topic
    must not swallow a request to stop."""

    exit_code = 130


@dataclass(frozen=True)
class Verdict:
    """What one answer (or transport failure) means."""

    ok: bool
    retryable: bool = False
    reason: str = ""  # "HTTP 503 (HTML error page from a proxy)", for the final error line
    refused: bool = False  # nobody listens at base_url (or its host does not resolve)
    cap: bool = False  # esearch refused to page past its cap

    @staticmethod
    def good() -> Verdict:
        return Verdict(ok=True)

    @staticmethod
    def retry(reason: str, *, refused: bool = False) -> Verdict:
        return Verdict(ok=False, retryable=True, reason=reason, refused=refused)

    @staticmethod
    def fatal(reason: str, *, cap: bool = False) -> Verdict:
        return Verdict(ok=False, retryable=False, reason=reason, cap=cap)


_ERROR_ELEMENT = re.compile(rb"<ERROR>\s*([^<]*?\S[^<]*?)\s*</ERROR>", re.S)
_CAP_WORDS = (b"cannot be larger than", b"out of acceptable range")


def _lead(body: bytes) -> bytes:
    """The body without a byte-order mark and leading white space."""
    return body.lstrip(b"\xef\xbb\xbf").lstrip()


def root_tag(body: bytes) -> str | None:
    """Name of the first element of an XML body, skipping the declaration, DOCTYPE, comments and
    processing instructions; None when the body does not start like XML."""
    text = _lead(body[:4096])
    pos = 0
    while True:
        if text.startswith(b"<?", pos):
            close = b"?>"
        elif text.startswith(b"<!--", pos):
            close = b"-->"
        elif text.startswith(b"<!", pos):
            close = b">"
        elif text.startswith(b"<", pos):
            m = re.match(rb"<([A-Za-z_][\w.:-]*)", text[pos:])
            return m.group(1).decode("ascii", "replace") if m else None
        else:
            return None
        end = text.find(close, pos)
        if end < 0:
            return None
        pos = end + len(close)
        while pos < len(text) and text[pos:pos + 1].isspace():
            pos += 1


def error_message(body: bytes) -> str | None:
    """The text of the first non-empty ``<ERROR>`` element (espell's empty ``<ERROR/>`` is none)."""
    m = _ERROR_ELEMENT.search(body[:65536])
    return m.group(1).decode("utf-8", "replace").strip() if m else None


def _looks_html(content_type: str, body: bytes) -> bool:
    head = _lead(body[:512]).lower()
    return ("text/html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))
            or (root_tag(body) or "").lower() == "html")


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def classify_response(status: int, content_type: str, body: bytes, expect_root: str) -> Verdict:
    """Judge an HTTP answer that was received in full. ``expect_root`` is the root element a good
    answer has (``eSearchResult``, ``PubmedArticleSet``)."""
    if _looks_html(content_type, body):
        what = "HTML error page from a proxy" if status >= 500 else "HTML page instead of XML"
        if status == 404:
            return Verdict.fatal("HTTP 404 Not Found")
        return Verdict.retry(f"HTTP {status} ({what})")
    lead = _lead(body[:1024])
    if status == 429:
        return Verdict.retry("HTTP 429 (rate limit exceeded)")
    if status >= 500 or status == 408:
        return Verdict.retry(f"HTTP {status}" + (f" ({_short(body.decode('utf-8', 'replace'))})"
                                                 if lead else " (empty body)"))
    if status == 404:
        return Verdict.fatal("HTTP 404 Not Found")
    msg = error_message(body) if lead.startswith(b"<") else None
    if msg is not None:
        if any(w in msg.encode() for w in _CAP_WORDS):
            return Verdict.fatal(f"HTTP {status} with <ERROR> {_short(msg)!r}", cap=True)
        return Verdict.retry(f"HTTP {status} with <ERROR> {_short(msg)!r}")
    if lead.startswith((b"{", b"[")):
        text = body.decode("utf-8", "replace")
        if re.search(r'"(ERROR|error)"\s*:', text):
            return Verdict.retry(f"HTTP {status} with a JSON error {_short(text)}")
        if 400 <= status < 500:
            return Verdict.fatal(f"HTTP {status}: {_short(text)}")
        return Verdict.retry(f"HTTP {status} with JSON instead of XML")
    if 400 <= status < 500:
        return Verdict.fatal(f"HTTP {status}" + (f": {_short(body.decode('utf-8', 'replace'))}"
                                                 if lead else ""))
    if status != 200:
        return Verdict.retry(f"HTTP {status} (unexpected status)")
    if not lead:
        return Verdict.retry("HTTP 200 with an empty body")
    root = root_tag(body)
    if root is None:
        return Verdict.retry("HTTP 200 with a body that is not XML")
    if root != expect_root:
        return Verdict.retry(f"HTTP 200 with <{root}> instead of <{expect_root}>")
    tail = body.rstrip()[-256:]
    closed = tail.endswith(f"</{expect_root}>".encode())
    empty = re.search(rb"<" + expect_root.encode() + rb"\b[^<>]*/>$", tail) is not None
    if not (closed or empty):
        return Verdict.retry("HTTP 200 with truncated XML (the body ends mid-document)")
    return Verdict.good()


def _errno_chain(exc: BaseException) -> set[int]:
    """Every OS error number in the exception's chain (requests wraps urllib3 wraps socket)."""
    codes: set[int] = set()
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno is not None:
            codes.add(e.errno)
        todo.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return codes


def classify_exception(exc: BaseException) -> Verdict:
    """Judge a transport failure raised by requests. All are worth retrying; the verdict says
    whether nobody answered at all (refused / unknown host) for a clearer final message."""
    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return Verdict.retry(f"no answer within pubmed.timeout_s ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return Verdict.retry("connection broken in the middle of the answer")
    if isinstance(exc, requests.ConnectionError):
        codes = _errno_chain(exc)
        if errno.ECONNREFUSED in codes or "Connection refused" in text:
            return Verdict.retry("connection refused", refused=True)
        if ("Name or service not known" in text or "Failed to resolve" in text
                or "nodename nor servname" in text or "getaddrinfo failed" in text):
            return Verdict.retry("host name not found", refused=True)
        if errno.ECONNRESET in codes or "reset" in text.lower():
            return Verdict.retry("connection reset by the server")
        if "RemoteDisconnected" in text or "closed connection" in text:
            return Verdict.retry("the server closed the connection without an answer")
        return Verdict.retry(f"connection error ({_short(text, 120)})")
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return Verdict.retry("an answer that could not be decoded")
    if isinstance(exc, requests.RequestException):
        return Verdict.fatal(f"request could not be sent ({_short(text, 120)})")
    raise TypeError(f"not a transport failure: {exc!r}")


@dataclass
class RetryPolicy:
    """How many times to ask and how long to wait: ``base_s * 2**attempt`` plus up to ``base_s``
    of random jitter (so clients that failed together do not come back together), capped at
    ``max_s``. ``attempts`` counts the first try: 1 + max_retries."""

    max_retries: int = 6
    base_s: float = 1.0
    max_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_settings(cls, pubmed: PubMedSettings, rng: random.Random | None = None) -> RetryPolicy:
        return cls(max_retries=pubmed.max_retries, base_s=pubmed.backoff_base_s,
                   max_s=pubmed.backoff_max_s, rng=rng or random.Random())

    @property
    def attempts(self) -> int:
        return 1 + self.max_retries

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0 for the first)."""
        raw = self.base_s * (2 ** min(attempt, 30)) + self.rng.uniform(0, self.base_s)
        return max(0.0, min(self.max_s, raw))


STOP_SLICE_S = 0.1


def sleep_interruptibly(seconds: float, should_stop: Callable[[], bool] | None,
                        *, what: str = "waiting") -> None:
    """Sleep in small slices, raising Interrupted as soon as ``should_stop()`` says so."""
    deadline = time.monotonic() + seconds
    while True:
        if should_stop is not None and should_stop():
            raise Interrupted(f"stopped while {what}")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(STOP_SLICE_S, left))
