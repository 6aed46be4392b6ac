"""CSL-JSON: the input format of citeproc-js (Zotero, Mendeley, pandoc) and citeproc-py.

Valid against the CSL data schema (``csl-data.json``: a JSON array of items with only the
schema's variables). Mapping:

- ``type`` article-journal, book, or chapter; ``id`` is the PMID.
- ``author``/``editor``: ``{family, given}``; a group author is ``{literal}``.
- ``issued``: ``date-parts`` with what is known (``[[2008, 2]]``); a month range is a two-part
  range (``[[2010, 9], [2010, 10]]``, "2010 Sep-Oct"); a season goes in ``season`` beside the year;
  a date with no readable year is a ``literal``. (No ``raw`` beside ``date-parts``: citeproc-js
  would re-parse it.)
- ``title`` without PubMed's closing period (for a non-English article PubMed's bracketed
  English translation, with the vernacular title in ``original-title``); ``container-title`` the full journal title,
  ``container-title-short`` the abbreviation (Zotero reads it as journalAbbreviation).
- ``page`` with abbreviated ranges expanded, ``page-first``; ``DOI``, ``PMID``, ``PMCID``, ``URL``,
  ``ISSN``/``ISBN``, ``language``, ``abstract``, ``keyword`` (comma-separated, as citeproc-js
  and Zotero write it).
- A retracted record: ``status`` "retracted" (the CSL variable meant for it) and ``note``
  "RETRACTED publication; retraction notice PMID ...".

The array is streamed: ``[`` at start, one item per line, ``]`` at finish.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from index.article import Article, Author
from search.export.base import (
    ARTICLE,
    BOOK,
    CHAPTER,
    Exporter,
    PubDate,
    book_url,
    cited_title,
    evidence_terms,
    expand_pages,
    given_name,
    is_retracted,
    journal_title,
    page_bounds,
    parse_pub_date,
    record_kind,
    retraction_note,
    strip_final_period,
    subject_terms,
)

_TYPES = {ARTICLE: "article-journal", BOOK: "book", CHAPTER: "chapter"}


def csl_name(author: Author) -> dict[str, str] | None:
    if author.collective:
        return {"literal": author.collective}
    given = given_name(author)
    if author.last:
        return {"family": author.last, **({"given": given} if given else {})}
    if given:
        return {"literal": given}
    return None


def csl_date(d: PubDate) -> dict[str, Any] | None:
    if d.year is None:
        return {"literal": d.raw} if d.raw else None
    start: list[int] = [d.year]
    if d.month:
        start.append(d.month)
        if d.day:
            start.append(d.day)
    parts: list[list[int]] = [start]
    if d.is_range and not d.season:
        end: list[int] = [d.end_year or d.year]
        if d.end_month:
            end.append(d.end_month)
        parts.append(end)
    out: dict[str, Any] = {"date-parts": parts}
    if d.season:
        out["season"] = d.season
    return out


def csl_item(article: Article) -> dict[str, Any]:
    kind = record_kind(article)
    item: dict[str, Any] = {"id": article.pmid, "type": _TYPES[kind]}

    def put(name: str, value: Any) -> None:
        if value is None or value == "" or value == []:
            return
        item[name] = value

    title = strip_final_period(cited_title(article))
    if kind == BOOK:
        title = strip_final_period(article.book_title or title)
    put("title", _rich(article, title))
    if article.vernacular_title and title != strip_final_period(article.vernacular_title):
        # a bracketed English translation as title: the original-language title beside it
        put("original-title", strip_final_period(article.vernacular_title))
    put("author", [n for n in (csl_name(a) for a in article.authors) if n])
    if kind == ARTICLE:
        put("container-title", journal_title(article))
        put("container-title-short", article.journal_iso)
    else:
        if kind == CHAPTER:
            put("container-title", strip_final_period(article.book_title))
        put("editor", [n for n in (csl_name(a) for a in article.editors) if n])
        put("publisher", article.publisher)
        put("publisher-place", article.publisher_location)
    put("issued", csl_date(parse_pub_date(article)))
    put("volume", article.volume)
    if kind == ARTICLE:
        put("issue", article.issue)
    put("page", expand_pages(article.pages))
    put("page-first", page_bounds(article.pages)[0])
    put("DOI", article.doi)
    put("PMID", article.pmid)
    put("PMCID", article.pmcid)
    put("URL", book_url(article) or article.pubmed_url)
    put("ISSN", article.issn if kind == ARTICLE else None)
    put("ISBN", article.isbn if kind != ARTICLE else None)
    put("call-number", article.bookaccession)
    put("language", article.languages[0] if len(article.languages) == 1
        else ", ".join(article.languages) or None)
    put("abstract", article.abstract)
    terms = subject_terms(article) + evidence_terms(article)  # + "design: rct", ...
    put("keyword", ", ".join(terms) if terms else None)
    if is_retracted(article):
        put("status", "retracted")
        put("note", retraction_note(article))
    return item


class CslJsonExporter(Exporter):
    def start(self) -> None:
        self.out.write("[")

    def write_record(self, article: Article) -> None:
        sep = "\n" if self.count == 0 else ",\n"
        self.out.write(sep + json.dumps(csl_item(article), ensure_ascii=False))

    def finish(self) -> None:
        self.out.write("\n]\n" if self.count else "]\n")
        super().finish()


def _rich(article: Article, title: str | None) -> str | None:
    """The title with PubMed's <i>, <b>, <sup>, <sub> kept as CSL-JSON's own rich-text markup
    (CSL processors and Zotero render it), when the plain title shown is the record's title.
    <u> has no CSL form: its text stays, the tag goes."""
    rich = article.title_html
    if not rich or not title or title != strip_final_period(article.title):
        return title
    rich = rich.replace("<u>", "").replace("</u>", "")
    plain = html.unescape(re.sub(r"<[^>]+>", "", rich))
    if " ".join(plain.split()) != " ".join((article.title or "").split()):
        return title  # the two disagree (an edited record): the plain text is safe
    return strip_final_period(rich)
