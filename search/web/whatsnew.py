"""What arrived: the "New since last harvest" page (paginated like search, with "Export all")
and the home page's overview (records per topic, the last harvest per topic, the newest records).

"New" is the record store's answer (first seen at or after the previous harvest's start, or a
date), so only PMIDs are read for the whole list and Articles only for the page shown: a first
harvest of 100,000 records pages as quickly as a nightly one of ten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from index.errors import IndexMissingError, KetlitError
from index.settings import Settings
from index.store import RecordStore
from search.searcher import Hit
from search.web.params import MAX_PAGE, PAGE_SIZES, SearchState

router = APIRouter(include_in_schema=False)
NEWEST_ON_HOME = 8


@dataclass(frozen=True)
class NewQuery:
    since: date | None
    topic: str | None
    page: int
    limit: int
    notices: tuple[str, ...]

    def query_string(self, **changes: Any) -> str:
        values = {"since": self.since.isoformat() if self.since else None, "topic": self.topic,
                  "limit": self.limit if self.limit != 20 else None, "page": self.page}
        values.update(changes)
        if values.get("page") == 1:
            values["page"] = None
        return urlencode([(k, str(v)) for k, v in values.items() if v is not None])


def parse_new(params: Any, settings: Settings) -> NewQuery:
    """The /new page's URL, read leniently: a bad value is reported and replaced by its default."""
    notices = []
    since: date | None = None
    raw_since = (params.get("since") or "").strip()
    if raw_since:
        try:
            since = date.fromisoformat(raw_since)
        except ValueError:
            notices.append(f"since: expected a date as YYYY-MM-DD, got {raw_since[:40]!r}; "
                           "showing what is new since the previous harvest")
    topic = (params.get("topic") or "").strip() or None
    if topic is not None and settings.topics and topic not in settings.topics:
        notices.append(f"topic: no topic named {topic[:40]!r} (configured: "
                       f"{', '.join(settings.topics)}); showing every topic")
        topic = None
    page = _int(params.get("page"), 1, "page", notices, 1, MAX_PAGE)
    limit = _int(params.get("limit"), 20, "limit", notices, 1, max(PAGE_SIZES))
    return NewQuery(since, topic, page, limit, tuple(notices))


def _int(raw: str | None, default: int, name: str, notices: list[str], lo: int, hi: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        notices.append(f"{name}: expected a whole number, got {raw[:20]!r}")
        return default
    if not lo <= value <= hi:
        notices.append(f"{name}: expected {lo} to {hi}, got {value}")
        return default
    return value


def new_pmids(settings: Settings, since: date | None, topic: str | None) -> tuple[str, list[str]]:
    """(the stamp "new" counts from, the new PMIDs newest first)."""
    if not settings.store_path.exists():
        return "", []
    with RecordStore(settings.store_path, readonly=True) as store:
        stamp = since.isoformat() if since else (store.get_meta("last_harvest_started") or "")
        return stamp, store.new_since(stamp, topic)


def _page_articles(settings: Settings, pmids: list[str]) -> list[Hit]:
    if not pmids:
        return []
    with RecordStore(settings.store_path, readonly=True) as store:
        found = store.get_many(pmids)
    return [Hit(found[p], None, None) for p in pmids if p in found]


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request) -> Response:
    from search.web.pages import _pages, _render

    settings: Settings = request.app.state.settings
    nq = parse_new(request.query_params, settings)
    _stamp, pmids = new_pmids(settings, nq.since, nq.topic)
    total = len(pmids)
    last = max(1, -(-total // nq.limit))
    page = min(nq.page, last)
    shown = pmids[(page - 1) * nq.limit: page * nq.limit]
    return _render(request, "new.html", {
        "hits": _page_articles(settings, shown), "total": total, "since": nq.since,
        "topic": nq.topic, "notices": list(nq.notices), "nq": nq, "page": page,
        "last_page": last, "page_numbers": _pages(page, last), "state": SearchState(),
        "first_number": (page - 1) * nq.limit + 1}, 400 if nq.notices else 200)


@router.get("/new/export")
def new_export(request: Request) -> Response:
    """The /new page's export form: the ticked records, or every new one ("Export all")."""
    from search.web.exporting import export_pmids
    from search.web.pages import EXPORT_LABELS, error_page, export_redirect

    params = request.query_params
    if (params.get("scope") or "selected") == "selected":
        return export_redirect(request)
    fmt = params.get("format") or "ris"
    if fmt not in EXPORT_LABELS:
        return error_page(request, 400, f"format: expected one of {', '.join(EXPORT_LABELS)}")
    settings: Settings = request.app.state.settings
    nq = parse_new(params, settings)
    if nq.notices:
        return error_page(request, 400, "; ".join(nq.notices))
    _stamp, pmids = new_pmids(settings, nq.since, nq.topic)
    if not pmids:
        return error_page(request, 400, "Nothing new to export.")
    return export_pmids(settings, pmids, fmt)


# -- the home page's overview --------------------------------------------------------------------

def overview(request: Request) -> dict[str, Any] | None:
    """Per topic: records, the last harvest (when, outcome, new); and the newest records.
    None before anything is harvested or while there is no index yet."""
    from search.searcher import SearchRequest

    settings: Settings = request.app.state.settings
    if not settings.store_path.exists():
        return None
    with RecordStore(settings.store_path, readonly=True) as store:
        runs = store.last_runs()
    try:
        with request.app.state.searcher.use() as searcher:
            counts = searcher.all_facets().get("topic", {})
            newest = searcher.search(SearchRequest(query="", sort="newest",
                                                   limit=NEWEST_ON_HOME)).hits
    except (IndexMissingError, KetlitError):
        return None
    topics = []
    for name, t in settings.topics.items():
        run = runs.get(name)
        topics.append({"name": name, "label": t.label or name, "count": counts.get(name, 0),
                       "run": run.to_dict() if run else None})
    return {"topics": topics, "newest": newest, "alerts": list(settings.alerts.values())}
