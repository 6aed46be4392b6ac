"""RIS, as Zotero's RIS translator, EndNote and rispy read it.

Tag choices (checked against Zotero's RIS.js field map):

- ``TY`` JOUR for articles, BOOK for whole books, CHAP for book chapters (GeneReviews sections).
- ``T2`` is the full journal title (Zotero: publicationTitle; for CHAP: the book title), ``J2``
  the abbreviation (Zotero: journalAbbreviation). ``JO``/``JF`` are not written: Zotero treats
  them as deprecated fallbacks and EndNote maps them inconsistently.
- ``PY`` the year and ``DA`` ``YYYY/MM/DD/other`` with only what is known; the fourth part keeps
  PubMed's text for ranges and seasons ("2010/09//2010 Sep-Oct", "2002///2002 Spring").
- ``SP``/``EP`` from the page range with PubMed's abbreviated end expanded (132-42 -> 132, 142).
- ``AN`` is the PMID: EndNote's accession number, and Zotero's "Loc. in Archive" next to
  ``DB`` PubMed ("Archive") - Zotero ignores ``ID`` entirely. ``C2`` carries the PMCID, where
  EndNote's PubMed filter puts it (Zotero has no PMCID field for RIS journal articles and drops
  it). ``UR`` is the PubMed page.
- ``KW`` one per line: MeSH descriptors then author keywords, then the evidence annotations
  ("design: rct", "drug: esketamine", "participants: 120").
- A group author's commas are written as U+201A (looks like a comma), the one form that both
  Zotero and citation-js import as a single creator (see ``ris_name``).
- A retracted record keeps its title as published (so duplicate detection and Zotero's own
  Retraction Watch check still match it) and gets ``N1`` "RETRACTED publication; retraction notice
  PMID ...", which Zotero imports as a child note and EndNote as Notes.

Lines end in CRLF as the RIS specification (and Zotero's exporter) has it. A value that spans
lines (structured abstracts) continues on the next line; a continuation line that would look
like a tag ("OR  - ...") is indented by one space so no reader mistakes it for one.
"""

from __future__ import annotations

import re

from index.article import Article, Author
from search.export.base import (
    BOOK,
    CHAPTER,
    Exporter,
    book_url,
    cited_title,
    evidence_terms,
    expand_pages,
    given_name,
    journal_title,
    page_bounds,
    parse_pub_date,
    record_kind,
    retraction_note,
    strip_final_period,
    subject_terms,
)

_TAG_LIKE = re.compile(r"^[A-Z][A-Z0-9] {1,2}-")
_TYPES = {BOOK: "BOOK", CHAPTER: "CHAP"}


# A group author's comma, written so that no reader splits the name at it (see ris_name).
GROUP_COMMA = "\u201a"


def ris_name(author: Author) -> str | None:
    """"Last, First" (RIS spec and Zotero); a group author as one name.

    Readers split an AU value at its first comma: Zotero's RIS import takes the text before
    the first ``,`` as the family name and the rest as the given name, and makes a one-field
    (institutional) creator only when no comma is left; citation-js's RIS parser splits at
    ``, ?`` into family/given/suffix and keeps a name whole (``literal``) only when it has no
    comma and a space. No escape survives either (Zotero unescapes HTML entities *before* it
    splits), so a comma inside a group name ("ENIGMA Consortium, Depression Working Group") is
    written as U+201A SINGLE LOW-9 QUOTATION MARK, which every Latin font draws as a comma:
    both readers then import the group as one creator, and the name reads the same.
    """
    if author.collective:
        return author.collective.replace(",", GROUP_COMMA)
    given = given_name(author)
    if author.last and given:
        return f"{author.last}, {given}"
    return author.last or given


def ris_date(article: Article) -> str | None:
    d = parse_pub_date(article)
    if d.year is None:
        return None
    month = f"{d.month:02d}" if d.month else ""
    day = f"{d.day:02d}" if d.day and d.month else ""
    other = "" if d.is_plain else (d.raw or "")
    return f"{d.year:04d}/{month}/{day}/{other}"


class RisExporter(Exporter):
    newline = "\r\n"

    def _tag(self, tag: str, value: str | int | None) -> None:
        if value is None:
            return
        text = str(value).strip()
        if not text:
            return
        lines = [ln.strip() for ln in text.splitlines()]
        lines = [ln for ln in lines if ln]
        first, rest = lines[0], lines[1:]
        self.out.write(f"{tag}  - {first}{self.newline}")
        for ln in rest:
            if _TAG_LIKE.match(ln):
                ln = " " + ln
            self.out.write(ln + self.newline)

    def write_record(self, article: Article) -> None:
        kind = record_kind(article)
        t = self._tag
        t("TY", _TYPES.get(kind, "JOUR"))
        title = strip_final_period(cited_title(article))
        if kind == BOOK:
            title = strip_final_period(article.book_title or title)
        t("TI", title)
        for a in article.authors:
            t("AU", ris_name(a))
        if kind == CHAPTER:
            t("T2", strip_final_period(article.book_title))
            for e in article.editors:
                t("A2", ris_name(e))  # Zotero: bookSection editor
        elif kind == BOOK:
            for e in article.editors:
                t("A3", ris_name(e))  # Zotero: book editor
        else:
            t("T2", journal_title(article))
        t("AB", article.abstract)
        t("C2", article.pmcid)
        if kind != "article":
            t("CN", article.bookaccession)
            t("CY", article.publisher_location)
        t("DA", ris_date(article))
        t("PY", parse_pub_date(article).year)
        t("DO", article.doi)
        t("VL", article.volume)
        t("IS", article.issue if kind == "article" else None)
        if kind == "article":
            sp, ep = page_bounds(article.pages)
            t("SP", sp)
            t("EP", ep)
            t("J2", article.journal_iso)
        else:
            t("SP", expand_pages(article.pages))
            t("PB", article.publisher)
        t("LA", "; ".join(article.languages) if article.languages else None)
        t("SN", article.isbn if kind != "article" else article.issn)
        t("UR", article.pubmed_url)
        t("UR", book_url(article))
        t("AN", article.pmid)
        t("DB", "PubMed")
        t("DP", "NLM")
        t("N1", retraction_note(article))
        for term in subject_terms(article):
            t("KW", term)
        for term in evidence_terms(article):  # evidence annotations, "design: rct"
            t("KW", term)
        self.out.write(f"ER  - {self.newline}{self.newline}")
