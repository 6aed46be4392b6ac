"""Atom feeds of what arrived: one per topic (/feeds/topics/NAME.atom) and one per saved search
(/feeds/alerts/NAME.atom), so a feed reader or a lab's chat can follow the index.

Entries are the records newest first by the time they reached the index (the store's first seen,
per topic for a topic's feed), FEED_SIZE of them, each linking to its page on this server and to
PubMed. The XML is built with ElementTree, so every title and abstract is escaped as text. The
feed's <updated> is its newest entry's (or the last harvest's start when it has none): never the
wall clock, so an unchanged feed reads the same each time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from index.article import Article
from index.errors import NotFoundError
from index.settings import Settings
from index.store import RecordStore

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
ALERT_WINDOW = 5000  # the newest arrivals a saved search's feed is drawn from
EPOCH = "1970-01-01T00:00:00Z"
SUMMARY_CHARS = 600


def _stamp(iso: str | None) -> str:
    """The store's '2026-12-04T19:00:00+00:00' as Atom's RFC 3339 '...Z'."""
    if not iso:
        return EPOCH
    return iso.replace("+00:00", "Z") if iso.endswith("+00:00") else iso


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def render_feed(*, feed_id: str, title: str, subtitle: str, self_url: str, html_url: str,
                base_url: str, entries: list[tuple[Article, str]], fallback_updated: str | None,
                ) -> bytes:
    from search.web.pages import authors_short, citation

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "subtitle", subtitle)
    _sub(feed, "updated", _stamp(entries[0][1] if entries else fallback_updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=html_url)
    _sub(_sub(feed, "author"), "name", "ketlit")
    _sub(feed, "generator", "ketlit")
    for art, seen in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", art.pubmed_url)
        _sub(entry, "title", art.title or art.vernacular_title or art.book_title or
             f"PMID {art.pmid}")
        _sub(entry, "updated", _stamp(seen))
        _sub(entry, "link", rel="alternate", type="text/html",
             href=f"{base_url}/records/{art.pmid}")
        _sub(entry, "link", rel="related", type="text/html", href=art.pubmed_url, title="PubMed")
        for name in art.author_names[:10]:
            _sub(_sub(entry, "author"), "name", name)
        if not art.author_names:
            _sub(_sub(entry, "author"), "name", art.journal or "PubMed")
        abstract = " ".join((art.abstract or "").split())
        if len(abstract) > SUMMARY_CHARS:
            abstract = abstract[:SUMMARY_CHARS].rsplit(" ", 1)[0] + " \u2026"
        lines = [authors_short(art), citation(art), f"PMID {art.pmid}",
                 "RETRACTED" if art.retracted else "", abstract]
        _sub(entry, "summary", "\n".join(x for x in lines if x), type="text")
        for t in sorted(art.topics):
            _sub(entry, "category", term=t)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entries(settings: Settings, arrivals: list[tuple[str, str]]) -> list[tuple[Article, str]]:
    if not arrivals:
        return []
    with RecordStore(settings.store_path, readonly=True) as store:
        found = store.get_many([p for p, _ in arrivals])
    return [(found[p], seen) for p, seen in arrivals if p in found]


def _meta(settings: Settings) -> str | None:
    if not settings.store_path.exists():
        return None
    with RecordStore(settings.store_path, readonly=True) as store:
        return store.get_meta("last_harvest_started")


def _arrivals(settings: Settings, topic: str | None, limit: int) -> list[tuple[str, str]]:
    if not settings.store_path.exists():
        return []
    with RecordStore(settings.store_path, readonly=True) as store:
        return store.arrivals(topic, limit=limit)


def _answer(body: bytes) -> Response:
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/feeds/topics/{name}.atom")
def topic_feed(request: Request, name: str) -> Response:
    settings: Settings = request.app.state.settings
    topic = settings.topics.get(name)
    if topic is None:
        raise NotFoundError(f"no topic named {name[:40]!r} (configured: "
                            f"{', '.join(settings.topics) or 'none'})")
    base = _base(request)
    label = topic.label or name
    body = render_feed(
        feed_id=f"{base}/feeds/topics/{name}.atom", title=f"ketlit: {label}",
        subtitle=f"Records new to the topic {name} ({topic.query}), newest first",
        self_url=f"{base}/feeds/topics/{name}.atom", html_url=f"{base}/new?topic={name}",
        base_url=base, entries=_entries(settings, _arrivals(settings, name, FEED_SIZE)),
        fallback_updated=_meta(settings))
    return _answer(body)


@router.get("/feeds/alerts/{name}.atom")
def alert_feed(request: Request, name: str) -> Response:
    """A saved search's feed: its matches among the newest arrivals, newest first."""
    from urllib.parse import urlencode

    from search.searcher import SearchRequest

    settings: Settings = request.app.state.settings
    alert = settings.alerts.get(name)
    if alert is None:
        raise NotFoundError(f"no saved search named {name[:40]!r} (configured: "
                            f"{', '.join(settings.alerts) or 'none'})")
    arrivals = _arrivals(settings, alert.topic, ALERT_WINDOW)
    req = SearchRequest(query=alert.query, topics=(alert.topic,) if alert.topic else ())
    with request.app.state.searcher.use() as searcher:  # a broken saved query: a 400 line
        matching = set(searcher.iter_matching_pmids(req))
    chosen = [(p, seen) for p, seen in arrivals if p in matching][:FEED_SIZE]
    base = _base(request)
    search_qs: list[tuple[str, Any]] = [("q", alert.query), ("sort", "newest")]
    if alert.topic:
        search_qs.append(("topic", alert.topic))
    scope = f" in topic {alert.topic}" if alert.topic else ""
    body = render_feed(
        feed_id=f"{base}/feeds/alerts/{name}.atom", title=f"ketlit saved search: {name}",
        subtitle=f"New records matching {alert.query}{scope}, newest first",
        self_url=f"{base}/feeds/alerts/{name}.atom", html_url=f"{base}/?{urlencode(search_qs)}",
        base_url=base, entries=_entries(settings, chosen), fallback_updated=_meta(settings))
    return _answer(body)
