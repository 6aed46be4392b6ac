"""MEDLINE tagged format (.nbib), as PubMed's "Citation manager" export and efetch
``rettype=medline`` write it, for EndNote, Zotero, RefWorks and Bio.Medline.

Layout, measured on PubMed's own files (../shared/data/pubmed/medline-nbib): a four-character tag
left-justified, ``- ``, the value; records separated by a blank line. A long value wraps at word
boundaries so that no line holds more than 81 characters of text after the six-column prefix (87
in all), continuation lines indented six spaces; as PubMed has written since 2023, every line
that wraps keeps the space it broke at (so a wrapped line is at most 88 characters with that
space; files from before 2023 break at the same places without it). A word longer than a line
stays whole. Every tag wraps, as in PubMed's files: Zotero, EndNote and ketlit's own reader join
continuation lines; Bio.Medline joins them for its text tags, AD and MH, and reads the rare
continuation of a long GR, CN or OT as a second value, exactly as it reads PubMed's own files.

Tags in PubMed's order: PMID OWN STAT DCOM LR IS VI IP DP TI PG LID AB CI FAU AU AD AUID CN LA GR
PT TT DEP PL TA JT JID RN SB RIN EIN MH PMC OTO OT COIS EDAT MHDA CRDT PHST AID PST SO; books add
BTI, ED/FED, PB, ISBN. Every IS with its type; RN is the registry number and substance name;
EDAT, MHDA and CRDT are the history's "pubmed", "medline" and "entrez" dates, and PHST lists
every history date as PubMed does. Tags whose values ketlit does not keep (JID of a book, DA,
OID, ...) are left out rather than invented. The abstract is one AB paragraph with the section
labels inline, as PubMed writes structured abstracts. MeSH headings use PubMed's notation: ``*``
on major topics and ``/``-separated qualifiers (``Depression/*drug therapy``). A retracted record
carries ``PT - Retracted Publication`` and ``RIN - PMID: N`` for each retraction notice.
"""

from __future__ import annotations

from index.article import Article, Author, Grant, MeshHeading
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

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LINE_WIDTH = 87  # prefix (6) + at most 81 characters of text
TEXT_WIDTH = LINE_WIDTH - 6
INDENT = " " * 6
def wrap_field(tag: str, value: str) -> list[str]:
    """One field as PubMed writes it: ``TAG - value`` wrapped after at most TEXT_WIDTH characters
    of text a line, each wrapped line keeping the space it broke at."""
    prefix = f"{tag:<4}- "
    if len(value) <= TEXT_WIDTH and value.isprintable() and "  " not in value \
            and value == value.strip():
        return [prefix + value] if value else []  # the common case: one short clean line
    text = " ".join(value.split())
    if not text:
        return []
    lines: list[str] = []
    while len(text) > TEXT_WIDTH:
        # the last space with at most TEXT_WIDTH characters before it; a longer word stays whole
        cut = text.rfind(" ", 0, TEXT_WIDTH + 1)
        if cut <= 0:
            cut = text.find(" ", TEXT_WIDTH + 1)
            if cut < 0:
                break
        lines.append(text[:cut + 1])
        text = text[cut + 1:]
    lines.append(text)
    return [prefix + lines[0], *(INDENT + line for line in lines[1:])]


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
    """"2023-05-17" -> "2023/05/17", "2023-05-17 13:10" -> "2023/05/17 13:10" (EDAT, PHST)."""
    if not iso or len(iso) < 10:
        return None
    return iso[:10].replace("-", "/") + iso[10:16]


def _epub(article: Article) -> str | None:
    """"2009-03-20" -> "2009 Mar 20" (SO's "Epub" date)."""
    iso = article.epub_date
    if not iso or len(iso) < 7 or not iso[:4].isdigit():
        return None
    month = int(iso[5:7]) if iso[5:7].isdigit() else 0
    if not 1 <= month <= 12:
        return iso[:4]
    day = f" {int(iso[8:10])}" if len(iso) >= 10 and iso[8:10].isdigit() else ""
    return f"{iso[:4]} {_MONTHS[month - 1]}{day}"


def grant_line(g: Grant) -> str | None:
    """GR as PubMed writes it: GrantID/Acronym/Agency/Country, missing parts left out."""
    return "/".join(p for p in (g.grant_id, g.acronym, g.agency, g.country) if p) or None


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
        history = dict(article.history)  # status -> date (the first of each, PubMed's)
        f("PMID", article.pmid)
        f("OWN", "NLM")
        f("STAT", article.status)
        f("DCOM", _compact_date(article.completed_date))
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
        elif article.pii and kind == "article":
            f("LID", f"{article.pii} [pii]")
        f("AB", article.abstract)
        f("CI", article.copyright)
        for a in article.authors:
            self._author(a, full="FAU", short="AU")
        for e in article.editors:
            self._author(e, full="FED", short="ED")
        for lang in article.languages:
            f("LA", lang)
        for g in article.grants:
            f("GR", grant_line(g))
        for pt in article.publication_types:
            f("PT", pt)
        if is_retracted(article) and not any(
                pt.casefold() == "retracted publication" for pt in article.publication_types):
            f("PT", "Retracted Publication")
        if article.vernacular_title and article.vernacular_title != article.title:
            f("TT", article.vernacular_title)
        f("DEP", _compact_date(article.epub_date))
        if kind == "article":
            f("PL", article.country)
            f("TA", nlm_abbreviation(article))
            f("JT", article.journal)
            f("JID", article.nlm_unique_id)
        else:
            f("PL", article.publisher_location)
            f("PB", article.publisher)
            f("ISBN", article.isbn)
        numbers = article.chemical_numbers
        for i, name in enumerate(article.chemicals):  # RN: registry number (substance name)
            f("RN", f"{numbers[i] if i < len(numbers) else '0'} ({name})")
        for sb in article.citation_subsets:
            f("SB", sb)
        for p in article.retraction_pmids:
            f("RIN", f"PMID: {p}")
        for p in article.erratum_pmids:
            f("EIN", f"PMID: {p}")
        for m in article.mesh:
            f("MH", mesh_line(m))
        f("PMC", article.pmcid)
        if article.keywords:
            f("OTO", "NOTNLM")
            for kw in article.keywords:
                f("OT", kw)
        f("COIS", article.coi_statement)
        f("EDAT", _slash_date(history.get("pubmed") or article.entrez_date))
        f("MHDA", _slash_date(history.get("medline")))
        f("CRDT", _slash_date(history.get("entrez")))
        for status, date in article.history:
            if (day := _slash_date(date)):
                f("PHST", f"{day} [{status}]")
        if article.pii and kind == "article":
            f("AID", f"{article.pii} [pii]")
        if article.doi:
            f("AID", f"{article.doi} [doi]")
        if article.bookaccession:
            f("AID", f"{article.bookaccession} [bookaccession]")
        f("PST", article.publication_status)
        source = nlm_source(article) if kind == "article" else None
        if source and article.doi:
            source += f" doi: {article.doi}."
        if source and article.publication_status == "ppublish" and (epub := _epub(article)):
            source += f" Epub {epub}."  # printed after an electronic release, as PubMed says
        f("SO", source)
