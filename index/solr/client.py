"""HTTP to SolrCloud: JSON requests with a timeout, tried on each configured node in turn.

Any node of a SolrCloud answers for the whole collection (it forwards to the shards' replicas),
so a node that refuses the connection, times out or answers 5xx is skipped for the next one; the
node that last answered is tried first. When none answers, one line names every URL tried, what
went wrong and what to do.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import requests

from index.errors import IndexUnavailableError, KetlitError

_RETRY_STATUS = frozenset({502, 503, 504})


class SolrRequestError(KetlitError):
    """Solr answered, and said no (a bad request, an unknown collection...)."""

    exit_code = 3

    def __init__(self, message: str, status: int, solr_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.solr_message = solr_message


class SolrClient:
    def __init__(self, urls: Sequence[str], timeout_s: float) -> None:
        if not urls:
            raise IndexUnavailableError("index.solr.urls is empty: name at least one Solr URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.timeout_s = timeout_s
        self._first = 0
        self._lock = threading.Lock()
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def request(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
                data: bytes | None = None, headers: dict[str, str] | None = None,
                timeout_s: float | None = None) -> dict[str, Any]:
        """The JSON answer of ``path`` (relative to a node's base URL, e.g. ``ketlit/select``)."""
        timeout = timeout_s or self.timeout_s
        problems: list[str] = []
        with self._lock:
            first = self._first
        order = self.urls[first:] + self.urls[:first]
        for base in order:
            url = f"{base}/{path.lstrip('/')}"
            try:
                r = self._session.request(method, url, params=params, json=json_body, data=data,
                                          headers=headers, timeout=(min(5.0, timeout), timeout))
            except requests.Timeout:
                problems.append(f"{base}: no answer within {timeout:g}s")
                continue
            except requests.RequestException as exc:
                problems.append(f"{base}: {_short(exc)}")
                continue
            if r.status_code in _RETRY_STATUS:
                problems.append(f"{base}: HTTP {r.status_code} {_solr_message(r)}".rstrip())
                continue
            with self._lock:
                self._first = self.urls.index(base)
            if r.status_code >= 400:
                msg = _solr_message(r)
                raise SolrRequestError(f"Solr at {base} refused {method} {path.split('?')[0]}: "
                                       f"HTTP {r.status_code} {msg}", r.status_code, msg)
            try:
                return r.json()  # type: ignore[no-any-return]
            except ValueError:
                problems.append(f"{base}: answered with something that is not JSON")
                continue
        raise IndexUnavailableError(
            "Solr did not answer (" + "; ".join(problems) + "): start the SolrCloud nodes or fix "
            "index.solr.urls in the config; nothing was marked indexed")


def _solr_message(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200].strip().replace("\n", " ")
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("msg") or err.get("trace", ""))[:300].replace("\n", " ")
    return ""


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text:
        return "host not found"
    return type(exc).__name__ + (": " + text[:160] if text else "")
