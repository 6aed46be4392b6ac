"""The HTML pages: search with filters and facets, a record, what's new, export redirects.

Server-rendered with Jinja (autoescaping on), so every title and abstract reaches the browser as
text; the only markup taken from data is the <mark> of snippets, and ``snippet_markup`` lets
nothing else through. The pages work without JavaScript; static/app.js only adds conveniences
(selection count, select all). The page URL uses the API's parameter names, so it is the search.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.routing import NoMatchFound

from index.article import Article
from index.errors import IndexMissingError, KetlitError, NotFoundError
from index.evidence import evidence_summary
from index.registry import FIELD_TAGS, facet_labels
from index.settings import Settings
from index.store import RecordStore
from search.export import format_labels
from search.web.charts import year_chart
from search.web.params import PAGE_SIZES, parse_pmids, parse_state

router = APIRouter(include_in_schema=False)

_MARK = re.compile(r"(</?mark>)")
_PMID = re.compile(r"^[0-9]{1,10}$")
# The export menu: the formats' registry (search.export.EXPORT_FORMATS), its names and labels.
EXPORT_LABELS = format_labels()


@functools.cache
def _templates() -> Jinja2Templates:
    from search.web.app import WEB_DIR

    t = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    t.env.globals.update(export_labels=EXPORT_LABELS, page_sizes=PAGE_SIZES,
                         facet_labels=facet_labels(), field_tags=FIELD_TAGS)
    # Evidence annotations (search/web/evidence.py): facet lists, result badges, map links.
    from search.web.evidence import cell_query, evidence_badges, evidence_facet_lists

    t.env.globals.update(evidence_facets=evidence_facet_lists, evidence_badges=evidence_badges,
                         evidence_cell=cell_query, evidence_summary=evidence_summary)
    t.env.filters.update(authors_short=authors_short, citation=citation, when=when,
                         doi_url=doi_url, pmc_url=pmc_url)
    return t


# -- helpers the templates use ---------------------------------------------------------------------

def snippet_markup(snippet: str | None) -> Markup:
    """The searcher's snippet (escaped text + <mark>) made safe whatever it holds: only the
    literal <mark> and </mark> survive as tags; any other '<' or '>' is escaped."""
    if not snippet:
        return Markup("")
    out = []
    for part in _MARK.split(snippet):
        if part in ("<mark>", "</mark>"):
            out.append(part)
        else:
            out.append(part.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
    html = "".join(out)
    # Unbalanced marks would bleed highlighting over the rest of the page.
    if html.count("<mark>") != html.count("</mark>"):
        html = html.replace("<mark>", "").replace("</mark>", "")
    return Markup(html)


def authors_short(article: Article, n: int = 6) -> str:
    names = article.author_names
    return ", ".join(names[:n]) + (", et al." if len(names) > n else "")


def citation(article: Article) -> str:
    """'J Abbr. 2021 Sep;12(3):45-67.' exactly as the text export (and PubMed) writes it, so an
    ahead-of-print record reads '2019 Mar 28:1-14.' and never '2019 Mar 28;:1-14.'."""
    from search.export.text import nlm_source

    if article.journal_iso or article.journal:
        return nlm_source(article)
    when_ = article.pub_date or (str(article.pub_year) if article.pub_year else "")
    text = ". ".join(p for p in ((article.book_title or "").rstrip("."), when_) if p)
    return text + "." if text else ""


def affiliation_index(article: Article) -> tuple[list[str], list[list[int]]]:
    """Each distinct affiliation once, in order of first mention, and for each author the
    numbers (1-based) of theirs, as PubMed lists them under the author line."""
    distinct: dict[str, int] = {}
    per_author: list[list[int]] = []
    for au in article.authors:
        nums = []
        for af in au.affiliations:
            key = " ".join(af.split())
            if key not in distinct:
                distinct[key] = len(distinct) + 1
            if distinct[key] not in nums:
                nums.append(distinct[key])
        per_author.append(nums)
    return list(distinct), per_author


def when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return dt.strftime("%Y-%m-%d %H:%M UTC") if "T" in iso else dt.strftime("%Y-%m-%d")


def doi_url(doi: str | None) -> str | None:
    return f"https://doi.org/{doi}" if doi else None


def pmc_url(pmcid: str | None) -> str | None:
    if not pmcid:
        return None
    pmcid = pmcid if pmcid.upper().startswith("PMC") else f"PMC{pmcid}"
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"


# -- shared page context ---------------------------------------------------------------------------

def _settings(request: Request) -> Settings:
    return request.app.state.settings


def harvest_info(settings: Settings) -> dict[str, Any]:
    """Record count and the time of the last harvest, for every page's header."""
    info: dict[str, Any] = {"records": None, "last": None, "status": None}
    if not settings.store_path.exists():
        return info
    with RecordStore(settings.store_path, readonly=True) as store:
        info["records"] = store.count()
        runs = store.last_runs()
        if runs:
            latest = max(runs.values(), key=lambda r: r.started)
            info["last"] = latest.ended or latest.started
            info["status"] = latest.status
        else:
            info["last"] = store.get_meta("last_harvest_started")
    return info


def _render(request: Request, template: str, context: dict[str, Any],
            status: int = 200) -> HTMLResponse:
    settings = _settings(request)
    base = {"harvest": harvest_info(settings), "topics": settings.topics, "nav": template,
            "has_evidence_map": _has_route(request, "evidence_map")}
    return _templates().TemplateResponse(request, template, {**base, **context}, status_code=status)


def _has_route(request: Request, name: str) -> bool:
    # By name, not by scanning app.routes: FastAPI keeps included routers' routes inside them.
    try:
        request.app.url_path_for(name)
    except NoMatchFound:
        return False
    return True


def error_page(request: Request, status: int, message: str) -> Response:
    try:
        return _render(request, "error.html", {"status": status, "message": message}, status)
    except KetlitError:
        # The header itself could not be built (e.g. an unreadable store): still answer plainly.
        return HTMLResponse(f"<!doctype html><title>Error</title><p>{escape(message)}</p>",
                            status_code=status)


def _hits(resp: Any) -> list[dict[str, Any]]:
    return [{"article": h.article, "score": h.score, "snippet": snippet_markup(h.snippet)}
            for h in resp.hits]


def _facet_list(counts: dict[str, int], selected: tuple[str, ...], top: int) -> list[tuple[str, int]]:
    """The ``top`` commonest values plus every selected one (so it can be unticked)."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:top]
    shown = {k for k, _ in items}
    lowered = {k.lower(): k for k in counts}
    for s in selected:
        key = lowered.get(s.lower(), s)
        if key not in shown:
            items.append((key, counts.get(key, 0)))
            shown.add(key)
    return items


def _pages(page: int, last: int) -> list[int | None]:
    """Page numbers around the current one, None where a gap is."""
    wanted = {1, last, *range(max(1, page - 2), min(last, page + 2) + 1)}
    out: list[int | None] = []
    prev = 0
    for p in sorted(wanted):
        if p - prev > 1:
            out.append(None)
        out.append(p)
        prev = p
    return out


# -- routes ----------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    from search.searcher import SearchRequest

    state = parse_state(request.query_params)
    context: dict[str, Any] = {"state": state, "notices": list(state.errors), "resp": None,
                               "hits": [], "facets": {}, "error": None}
    status = 400 if state.errors else 200
    if not state.is_search:
        from search.web.whatsnew import overview

        context["overview"] = overview(request)
    if state.is_search:
        req = SearchRequest(query=state.q, match=state.match, sort=state.sort,
                            limit=state.limit, page=state.page, rank=state.rank or None,
                            **state.filters())
        try:
            with request.app.state.searcher.use() as searcher:
                resp = searcher.search(req)
        except (IndexMissingError, NotFoundError):
            raise
        except KetlitError as exc:
            context["error"] = str(exc)
            status = 400
        else:
            data = resp.to_json()
            last = max(1, -(-data["total"] // state.limit))
            context.update(resp=data, hits=_hits(resp), facets=data.get("facets") or {},
                           last_page=last, page_numbers=_pages(min(state.page, last), last))
    facets = context["facets"]
    from index.embeddings import available

    context["rank"] = state.rank or _settings(request).search.rank
    context["semantic"] = available()
    context["topic_facet"] = [
        (name, (t.label or name), facets.get("topic", {}).get(name, 0))
        for name, t in _settings(request).topics.items()]
    for t in state.topics:  # a topic in the URL that the config no longer has: keep it visible
        if t not in _settings(request).topics:
            context["topic_facet"].append((t, t, facets.get("topic", {}).get(t, 0)))
    context["type_facet"] = _facet_list(facets.get("publication_type", {}), state.types, 12)
    years = facets.get("year", {})
    context["year_chart"] = year_chart(years)
    context["year_facet"] = sorted(years.items(), key=lambda kv: kv[0], reverse=True)[:15]
    return _render(request, "search.html", context, status)


@router.get("/records/{pmid}", response_class=HTMLResponse)
def record_page(request: Request, pmid: str) -> Response:
    if not _PMID.match(pmid):
        return error_page(request, 404, f"{pmid[:40]!r} is not a PMID (digits only)")
    state = parse_state(request.query_params)
    with request.app.state.searcher.use() as searcher:
        article = searcher.get(pmid)
        try:
            similar = [h.article for h in searcher.similar(pmid, limit=10).hits]
        except KetlitError:
            similar = []
    back = state.query_string() if state.is_search else None
    affiliations, author_affs = affiliation_index(article)
    return _render(request, "record.html", {"a": article, "similar": similar, "back": back,
                                            "state": state, "affiliations": affiliations,
                                            "author_affs": author_affs})


@router.get("/export")
def export_redirect(request: Request) -> Response:
    """The page's export form: turn "selected" or "all results" into the API's download URL."""
    params = request.query_params
    fmt = params.get("format") or "ris"
    if fmt not in EXPORT_LABELS:
        return error_page(request, 400, f"format: expected one of {', '.join(EXPORT_LABELS)}")
    scope = params.get("scope") or "selected"
    if scope == "selected":
        pmids = parse_pmids(params.getlist("pmids"))
        if not pmids:
            return error_page(request, 400, "Nothing selected: tick the box beside each record "
                                            "to export, or use \"Export all results\".")
        target = urlencode([("format", fmt), ("pmids", ",".join(pmids))])
    else:
        state = parse_state(params)
        if not state.is_search:
            return error_page(request, 400, "Nothing to export: search, or tick a filter, "
                                            "first.")
        pairs = [p for p in state.pairs(with_page=False) if p[0] != "limit"]
        target = urlencode([("format", fmt), *pairs])
    return RedirectResponse(f"/api/export?{target}", status_code=303)
