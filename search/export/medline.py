"""MEDLINE tagged format (.nbib), as PubMed's "Citation manager" export and efetch
``rettype=medline`` write it, for EndNote, Zotero, RefWorks and Bio.Medline.

Layout, measured on PubMed's own files: a four-character tag left-justified, ``- ``, the value;
values wrap at word boundaries so that no line exceeds 87 characters (a word longer than a line
stays whole), continuation lines indented six spaces; records separated by a blank line. Only
tags that readers join across lines are wrapped (TI, AB, AD, MH, JT, SO, ...): Bio.Medline reads
a continuation of CN, FAU, OT or PT as a second value, so those stay on one line.

Tags in PubMed's order: PMID OWN STAT LR IS VI IP DP TI PG LID AB FAU AU AD AUID CN LA PT DEP TA JT
MH OTO OT RIN EIN EDAT PMC AID SO; ``TT`` for a vernacular title; books add BTI, ED/FED, PB, PL,
ISBN. Articles add PL (country of publication), every IS with its
type, RN (registry number and substance name) and AID [pii]. Tags whose values ketlit does not
keep (DCOM, PHST, JID, SB, PST) are left out rather than invented. The abstract is one AB paragraph with the section labels inline, as PubMed
writes structured abstracts. MeSH headings use PubMed's notation: ``*`` on major topics and
``/``-separated qualifiers (``Depression/*drug therapy``). A retracted record carries
``PT - Retracted Publication`` and ``RIN - PMID: N`` for each retraction notice.
"""

from __future__ import annotations

from index.article import Article, Author, MeshHeading
from search.export.base import (
    BOOK,
    CHAPTER,
    Exporter,
    cited_title,
    is_retracted,
    nlm_abbreviation,
    record_kind,
)
from search.export.text import nlm_source

LINE_WIDTH = 87
INDENT = " " * 6
# Tags whose continuation lines readers join back into one value. Bio.Medline (and tools built
# the same way) read every continuation line of any other tag as a *new* list item, so a wrapped
# CN or OT would come back as two group names or keywords: those stay on one line, however long.
WRAPPED_TAGS = frozenset({
    "AB", "AD", "CA", "CY", "DA", "DCOM", "DEP", "DP", "EA", "EDAT", "ID", "IP", "IS", "JC", "JID",
    "JT", "LID", "LR", "MH", "MHDA", "NI", "OWN", "PG", "PL", "PMC", "PMID", "PST", "PUBM", "RF",
    "SB", "SO", "STAT", "TA", "TI", "TT", "VI", "YR"})


def wrap_field(tag: str, value: str) -> list[str]:
    """One field as PubMed writes it: ``TAG - value`` wrapped at LINE_WIDTH (WRAPPED_TAGS only)."""
    words = value.split()
    if not words:
        return []
    if tag not in WRAPPED_TAGS:
        return [f"{tag:<4}- " + " ".join(words)]
    lines: list[str] = []
    current = f"{tag:<4}- {words[0]}"
    for word in words[1:]:
        if len(current) + 1 + len(word) <= LINE_WIDTH:
            current += " " + word
        else:
            lines.append(current)
            current = INDENT + word
    lines.append(current)
    return lines


def mesh_line(m: MeshHeading) -> str:
    head = ("*" if m.major else "") + m.descriptor
    quals = "".join("/" + ("*" if major else "") + q for q, major in m.qualifiers)
    return head + quals


def _compact_date(iso: str | None) -> str | None:
    """"2023-05-17" -> "20230517" (LR, DEP)."""
    if not iso:
        return None
    digits = iso[:10].replace("-", "")
    return digits if len(digits) == 8 and digits.isdigit() else None


def _slash_date(iso: str | None) -> str | None:
    """"2023-05-17..." -> "2023/05/17" (EDAT)."""
    if not iso or len(iso) < 10:
        return None
    return iso[:10].replace("-", "/")


class MedlineExporter(Exporter):
    def _field(self, tag: str, value: str | None) -> None:
        if value is None:
            return
        for line in wrap_field(tag, str(value)):
            self.out.write(line + "\n")

    def _author(self, a: Author, *, full: str, short: str) -> None:
        if a.collective:
            self._field("CN", a.collective)
            return
        if a.last:
            self._field(full, f"{a.last}, {a.fore}" if a.fore else a.last)
            self._field(short, " ".join(p for p in (a.last, a.initials) if p))
        elif a.fore:
            self._field(full, a.fore)
            self._field(short, a.fore)
        if full == "FAU":
            for aff in a.affiliations:
                self._field("AD", aff)
            if a.orcid:
                self._field("AUID", f"ORCID: {a.orcid}")

    def write_record(self, article: Article) -> None:
        if self.count:
            self.out.write("\n")
        kind = record_kind(article)
        f = self._field
        f("PMID", article.pmid)
        f("OWN", "NLM")
        f("STAT", article.status)
        f("LR", _compact_date(article.revised_date))
        if kind == "article":
            typed = [(n, t) for n, t in ((article.issn_print, "Print"),
                                          (article.issn_electronic, "Electronic"),
                                          (article.issn_linking, "Linking")) if n]
            if typed:  # every ISSN with its type, as PubMed writes them
                for n, t in typed:
                    f("IS", f"{n} ({t})")
            else:
                f("IS", article.issn)
        f("VI", article.volume)
        f("IP", article.issue)
        f("DP", article.pub_date or (str(article.pub_year) if article.pub_year else None))
        if kind == BOOK:
            f("TI", article.book_title or cited_title(article))
        else:
            f("TI", article.title or cited_title(article))
        if kind == CHAPTER:
            f("BTI", article.book_title)
        f("PG", article.pages)
        if article.doi:
            f("LID", f"{article.doi} [doi]")
        f("AB", article.abstract)
        for a in article.authors:
            self._author(a, full="FAU", short="AU")
        for e in article.editors:
            self._author(e, full="FED", short="ED")
        for lang in article.languages:
            f("LA", lang)
        for pt in article.publication_types:
            f("PT", pt)
        if is_retracted(article) and not any(
                pt.casefold() == "retracted publication" for pt in article.publication_types):
            f("PT", "Retracted Publication")
        f("DEP", _compact_date(article.epub_date))
        if kind == "article":
            f("PL", article.country)
            f("TA", nlm_abbreviation(article))
            f("JT", article.journal)
        else:
            f("PL", article.publisher_location)
            f("PB", article.publisher)
            f("ISBN", article.isbn)
        if article.vernacular_title and article.vernacular_title != article.title:
            f("TT", article.vernacular_title)
        numbers = article.chemical_numbers
        for i, name in enumerate(article.chemicals):  # RN: registry number (substance name)
            f("RN", f"{numbers[i] if i < len(numbers) else '0'} ({name})")
        for m in article.mesh:
            f("MH", mesh_line(m))
        if article.keywords:
            f("OTO", "NOTNLM")
            for kw in article.keywords:
                f("OT", kw)
        for p in article.retraction_pmids:
            f("RIN", f"PMID: {p}")
        for p in article.erratum_pmids:
            f("EIN", f"PMID: {p}")
        f("EDAT", _slash_date(article.entrez_date))
        f("PMC", article.pmcid)
        if article.doi:
            f("AID", f"{article.doi} [doi]")
        if article.pii:
            f("AID", f"{article.pii} [pii]")
        if article.bookaccession:
            f("AID", f"{article.bookaccession} [bookaccession]")
        source = nlm_source(article) if kind == "article" else None
        if source and article.doi:
            source += f" doi: {article.doi}."
        f("SO", source)
