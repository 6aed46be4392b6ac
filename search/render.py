"""Plain-text rendering of search results and records for the terminal.

Snippets arrive as HTML (escaped text with <mark> around matched terms, for the web page); here
they are turned back into text, the marks shown in bold when the terminal has colour.
"""

from __future__ import annotations

import html
import re
import shutil
import textwrap

from index.article import Article
from index.evidence import evidence_summary
from index.registry import FACETS
from search.searcher import Hit, SearchResponse

_BOLD, _DIM, _YELLOW, _RED, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[33m", "\x1b[31m", "\x1b[0m"
_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.S)


def _width() -> int:
    return max(60, min(110, shutil.get_terminal_size((100, 24)).columns))


def snippet_text(snippet: str, color: bool) -> str:
    """<mark>x</mark> -> bold x (colour) or x; entities unescaped."""
    if color:
        out = _MARK_RE.sub(lambda m: _BOLD + _YELLOW + m.group(1) + _RESET, snippet)
    else:
        out = _MARK_RE.sub(lambda m: m.group(1), snippet)
    return html.unescape(out)


def _authors(article: Article, n: int = 3) -> str:
    names = article.author_names
    if not names:
        return ""
    return ", ".join(names[:n]) + (", et al." if len(names) > n else "")


def _hit_lines(rank: int, hit: Hit, color: bool, width: int) -> list[str]:
    a = hit.article
    title = a.title or a.book_title or a.vernacular_title or "(no title)"
    year = f" ({a.pub_year})" if a.pub_year else ""
    head = f"{rank:>3}. {title}{year}"
    if a.retracted:
        head += " [RETRACTED]"
    lines = textwrap.wrap(head, width, subsequent_indent="     ") or [head]
    if color:
        lines[0] = _BOLD + lines[0] + _RESET
        if a.retracted:
            lines = [ln.replace("[RETRACTED]", _RED + "[RETRACTED]" + _RESET + _BOLD)
                     for ln in lines]
    meta = " - ".join(x for x in (_authors(a), a.journal_iso or a.journal) if x)
    ids = f"PMID {a.pmid}" + (f"  doi:{a.doi}" if a.doi else "")
    types = [t for t in a.publication_types if t != "Journal Article"]
    extra = "; ".join(x for x in (", ".join(types), ", ".join(sorted(a.topics))) if x)
    for text in (meta, ids + (f"  [{extra}]" if extra else "")):
        if text:
            for ln in textwrap.wrap(text, width, initial_indent="     ",
                                    subsequent_indent="     "):
                lines.append(_DIM + ln + _RESET if color else ln)
    if hit.snippet:
        plain = snippet_text(hit.snippet, color=False)
        wrapped = textwrap.wrap(plain, width, initial_indent="     ", subsequent_indent="     ")
        if color:
            # Re-apply the marks after wrapping (wrapping must count visible characters only).
            marked = {m for m in _MARK_RE.findall(hit.snippet)}
            wrapped = [_mark_words(ln, marked) for ln in wrapped]
        lines.extend(wrapped)
    return lines


def _mark_words(line: str, marked: set[str]) -> str:
    for word in sorted((html.unescape(m) for m in marked), key=len, reverse=True):
        line = re.sub(r"(?<!\w)" + re.escape(word) + r"(?!\w)",
                      _BOLD + _YELLOW + word + _RESET, line)
    return line


def render_hits_text(resp: SearchResponse, color: bool = False) -> str:
    """The hits alone (similar, new)."""
    if not resp.hits:
        return "no records"
    width = _width()
    lines: list[str] = [f"{resp.total} record(s)"]
    for i, hit in enumerate(resp.hits, 1):
        lines.append("")
        lines.extend(_hit_lines(i, hit, color, width))
    return "\n".join(lines)


def _facet_line(name: str, counts: dict[str, int], top: int = 8) -> str | None:
    if not counts:
        return None
    items = list(counts.items())[:top]
    more = f", +{len(counts) - top} more" if len(counts) > top else ""
    return f"  {name}: " + ", ".join(f"{k} ({v})" for k, v in items) + more


def render_search_text(resp: SearchResponse, color: bool = False) -> str:
    width = _width()
    lines: list[str] = []
    # An empty query browses the filtered records (see Searcher.search).
    what = f"'{resp.query}'" if resp.query.strip() not in ("", "*") else "the filters"
    notes = [f"note: {n}" for n in resp.notices]
    if resp.total == 0:
        lines.append(f"no results for {what}")
        if resp.suggestion:
            lines.append(f"did you mean: {resp.suggestion}")
        return "\n".join(lines + notes)
    first = (resp.page - 1) * resp.per_page + 1
    last = first + len(resp.hits) - 1
    shown = f"{first}-{last}" if resp.hits else "none"
    lines.append(f"{resp.total} result(s) for {what} (showing {shown}, page {resp.page} "
                 f"of {resp.pages})")
    lines.extend(notes)
    for i, hit in enumerate(resp.hits, first):
        lines.append("")
        lines.extend(_hit_lines(i, hit, color, width))
    facet_lines: list[str] = []
    for group in FACETS:  # the registry's groups and labels, as the page and the API show them
        counts = resp.facets.get(group.key, {})
        if group.key == "retracted":
            n_retracted = counts.get("true", 0)
            if n_retracted:
                facet_lines.append(f"  {group.label}: {n_retracted} of {resp.total}")
        elif (line := _facet_line(group.label, counts)) is not None:
            facet_lines.append(line)
    if facet_lines:
        lines.append("")
        lines.append("facets (all results):")
        lines.extend(facet_lines)
    if not resp.hits and resp.total:
        lines.append("")
        lines.append(f"page {resp.page} is past the last page ({resp.pages})")
    return "\n".join(lines)


def render_article_text(article: Article) -> str:
    width = _width()
    a = article
    out: list[str] = []
    title = a.title or a.book_title or a.vernacular_title or "(no title)"
    out.extend(textwrap.wrap(title, width) or [title])
    if a.retracted:
        notices = ", ".join(a.retraction_pmids)
        out.append("RETRACTED" + (f" (retraction notice: PMID {notices})" if notices else ""))
    out.append("")
    if a.authors:
        out.extend(textwrap.wrap("Authors: " + ", ".join(a.author_names), width,
                                 subsequent_indent="  "))
    source = a.journal or a.book_title or ""
    cite = "; ".join(x for x in (
        a.pub_date or (str(a.pub_year) if a.pub_year else None),
        ":".join(x for x in (a.volume and (a.volume + (f"({a.issue})" if a.issue else "")),
                             a.pages) if x) or None) if x)
    if source:
        out.extend(textwrap.wrap(f"Source: {source}" + (f". {cite}" if cite else ""), width,
                                 subsequent_indent="  "))
    ids = [f"PMID: {a.pmid}"]
    if a.pmcid:
        ids.append(f"PMCID: {a.pmcid}")
    if a.doi:
        ids.append(f"DOI: {a.doi}")
    out.append("  ".join(ids))
    for label, values in (("Type", a.publication_types), ("Language", a.languages),
                          ("Topics", sorted(a.topics)), ("Keywords", a.keywords),
                          ("MeSH", a.mesh_terms)):
        if values:
            out.extend(textwrap.wrap(f"{label}: " + "; ".join(values), width,
                                     subsequent_indent="  "))
    for label, text in evidence_summary(a.annotations):
        out.extend(textwrap.wrap(f"{label}: {text}", width, subsequent_indent="  "))
    out.append(a.pubmed_url)
    if a.abstract:
        out.append("")
        for para in a.abstract.split("\n"):
            if para.strip():
                out.extend(textwrap.wrap(para, width) or [""])
                out.append("")
        if out[-1] == "":
            out.pop()
    return "\n".join(out)
