"""What every citation format shares: the exporter protocol and the field logic under it.

An exporter is a small object bound to an output stream (the shape of scrapy's item exporters):
``start()`` once, ``write(article)`` per record, ``finish()`` once. It holds nothing between records
but what its format needs (BibTeX keys already used), so an export streams in constant memory.

The helpers here decide, once for all formats, how PubMed's fields are read: which title to cite,
how a publication date "as written" splits into year/month/day/season, how abbreviated page
ranges expand, what counts as a book or a chapter, and how a retraction is worded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, TextIO

from index.article import Article, Author
from index.evidence import keyword_terms


class Exporter:
    """Base of every format. Subclasses override ``start``, ``write_record`` and ``finish``."""

    #: line terminator the format's specification asks for
    newline: ClassVar[str] = "\n"

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0

    def start(self) -> None:
        """Write whatever precedes the first record (a header row, an opening bracket)."""

    def write(self, article: Article) -> None:
        self.write_record(article)
        self.count += 1

    def write_record(self, article: Article) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Write whatever follows the last record and flush."""
        self.out.flush()


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    exporter: type[Exporter]
    label: str = ""


# -- record kind ----------------------------------------------------------------------------------

ARTICLE, BOOK, CHAPTER = "article", "book", "chapter"


def record_kind(article: Article) -> str:
    """"chapter" for a PubmedBookArticle with its own title inside a book, "book" for a whole
    book, else "article". PubMed's book records are either (GeneReviews chapters vs. a whole
    textbook), and reference managers need them told apart."""
    if not article.is_book:
        return ARTICLE
    if article.title and article.book_title and _norm(article.title) != _norm(article.book_title):
        return CHAPTER
    return BOOK


def _norm(text: str) -> str:
    return " ".join(text.casefold().rstrip(".").split())


# -- titles ---------------------------------------------------------------------------------------

def cited_title(article: Article) -> str | None:
    """The title as written in PubMed: ArticleTitle, else the vernacular title (PubMed leaves
    ArticleTitle empty for some non-English records), else the book title."""
    for t in (article.title, article.vernacular_title, article.book_title):
        if t and t.strip():
            return t.strip()
    return None


def strip_final_period(title: str | None) -> str | None:
    """PubMed ends every title with a period; reference managers (Zotero's PubMed import does this)
    drop it so that styles add their own punctuation. "?" and "!" belong to the title and stay;
    so does an ellipsis, and a period closing an abbreviation inside brackets is rare enough to
    accept."""
    if not title:
        return title
    if title.endswith(".") and not title.endswith(".."):
        return title[:-1].rstrip()
    return title


def is_retracted(article: Article) -> bool:
    return article.retracted or any(
        pt.casefold() == "retracted publication" for pt in article.publication_types)


def retraction_note(article: Article) -> str | None:
    """One sentence, the same in every format, for a retracted record; None otherwise."""
    if not is_retracted(article):
        return None
    if article.retraction_pmids:
        return ("RETRACTED publication; retraction notice PMID "
                + ", ".join(article.retraction_pmids))
    return "RETRACTED publication"


def subject_terms(article: Article) -> list[str]:
    """MeSH descriptors then author keywords (the order Zotero's PubMed import uses), without
    duplicates (compared case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for term in [*article.mesh_terms, *article.keywords]:
        t = " ".join(term.split())
        if t and t.casefold() not in seen:
            seen.add(t.casefold())
            out.append(t)
    return out


def evidence_terms(article: Article) -> list[str]:
    """The record's evidence annotations as keywords ("design: rct", "drug: esketamine",
    "participants: 120"), for the formats' keyword fields beside subject_terms."""
    return keyword_terms(article.annotations)


def journal_title(article: Article) -> str | None:
    """The journal's full title as a citation shows it: NLM's disambiguating place/date
    qualifier is dropped ("Science (New York, N.Y.)" -> "Science", as Zotero's PubMed import
    does); MEDLINE output keeps PubMed's JT as written."""
    title = article.journal or article.journal_iso
    if title:
        m = re.match(r"^(.*\S)\s*\([^()]*\)$", title)
        if m:
            return m.group(1)
    return title


def nlm_abbreviation(article: Article) -> str | None:
    """The journal abbreviation as NLM prints it in citations: no periods ("Nat Chem Biol";
    older ISO abbreviations in PubMed XML still carry them: "Nat. Chem. Biol.")."""
    abbr = article.journal_iso or article.journal
    if not abbr:
        return None
    return " ".join(abbr.replace(".", " ").split()) if article.journal_iso else abbr


def book_url(article: Article) -> str | None:
    if article.bookaccession:
        return f"https://www.ncbi.nlm.nih.gov/books/{article.bookaccession}/"
    return None


# -- names ----------------------------------------------------------------------------------------

def given_name(author: Author) -> str | None:
    """ForeName as PubMed gives it ("Peter O"), else the initials."""
    return author.fore or author.initials


def initials_dotted(author: Author) -> str | None:
    """"Peter O" -> "Peter O."; single letters get a period, as Zotero's import writes them."""
    g = given_name(author)
    if not g:
        return None
    if author.fore:
        return " ".join(w + "." if len(w) == 1 and w.isalpha() else w for w in g.split())
    return " ".join(c + "." for c in g if c.isalpha())


def vancouver_name(author: Author) -> str:
    """"Coar JT" (surname and initials without periods); a group author as written."""
    if author.collective:
        return author.collective
    parts = [p for p in (author.last, author.initials or _initials_of(author.fore)) if p]
    return " ".join(parts)


def _initials_of(fore: str | None) -> str | None:
    if not fore:
        return None
    letters = [w[0] for w in re.split(r"[\s\-]+", fore) if w and w[0].isalpha()]
    return "".join(letters).upper() or None


# -- pages ----------------------------------------------------------------------------------------

_RANGE = re.compile(r"([A-Za-z]*)(\d+)([A-Za-z]*)\s*[-\u2010-\u2015\u2212]\s*([A-Za-z]*)(\d+)([A-Za-z]*)")


def expand_pages(pages: str | None) -> str | None:
    """PubMed abbreviates the end of a range ("1234-45", "132-42", "S12-9"); expand every range
    to full form ("1234-1245", "132-142", "S12-S19"), keeping anything else as written."""
    if not pages:
        return None

    def full(m: re.Match[str]) -> str:
        p1, d1, s1, p2, d2, s2 = m.groups()
        if len(d2) < len(d1) and not p2:
            d2 = d1[: len(d1) - len(d2)] + d2
        if p1 and not p2:
            p2 = p1
        return f"{p1}{d1}{s1}-{p2}{d2}{s2}"

    return _RANGE.sub(full, pages.strip())


def page_bounds(pages: str | None) -> tuple[str | None, str | None]:
    """(first page, last page) of the expanded range, for RIS SP/EP and CSL page-first.
    "e12516" -> ("e12516", None); "12-14; discussion 15" -> ("12", "14; discussion 15"), so that
    a reader joining SP-EP gets back what PubMed wrote."""
    full = expand_pages(pages)
    if not full:
        return None, None
    m = re.match(r"^(.+?)\s*[-\u2010-\u2015\u2212]\s*(.+)$", full)
    if m:
        return m.group(1), m.group(2)
    return full, None


# -- dates ----------------------------------------------------------------------------------------

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
MONTH_ABBR = {v: k.capitalize() for k, v in MONTHS.items()}
SEASONS = {"spring": 1, "summer": 2, "fall": 3, "autumn": 3, "winter": 4}


@dataclass(frozen=True)
class PubDate:
    """A publication date split into what is known. ``raw`` is PubMed's text ("2010 Sep-Oct")."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    end_year: int | None = None  # a range: "2010 Dec-2011 Jan", "2010 Sep-Oct"
    end_month: int | None = None
    season: str | None = None  # "Spring", "Winter-Spring"
    raw: str | None = None

    @property
    def is_range(self) -> bool:
        return self.end_month is not None or (self.end_year is not None
                                               and self.end_year != self.year)

    @property
    def is_plain(self) -> bool:
        """Year, month and day say everything: no range, no season."""
        return not self.is_range and not self.season


def _month(token: str) -> int | None:
    t = token.casefold()
    if t.isdigit():
        n = int(t)
        return n if 1 <= n <= 12 else None
    return MONTHS.get(t[:3]) if len(t) >= 3 else None


def parse_pub_date(article: Article) -> PubDate:
    """Read PubMed's PubDate as written ("2008 Feb", "2019 Feb 4", "2010 Sep-Oct", "2002 Spring",
    "1998 Winter-Spring", "2010 Dec-2011 Jan", "2017 11 09") into parts; falls back to pub_year."""
    raw = (article.pub_date or "").strip()
    if not raw:
        return PubDate(year=article.pub_year, raw=str(article.pub_year) if article.pub_year else None)
    iso = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", raw)
    if iso:
        return PubDate(year=int(iso[1]), month=_month(iso[2]),
                       day=int(iso[3]) if iso[3] else None, raw=raw)
    halves = re.split(r"\s*[-\u2013]\s*", raw, maxsplit=1)
    year = month = day = None
    seasons: list[str] = []
    end_year = end_month = None
    for i, half in enumerate(halves):
        for tok in re.findall(r"[A-Za-z]+|\d+", half):
            low = tok.casefold()
            if tok.isdigit() and len(tok) == 4:
                if i == 0 and year is None:
                    year = int(tok)
                elif i == 1:
                    end_year = int(tok)
            elif low in SEASONS:
                seasons.append(tok.capitalize())
            elif _month(tok) is not None and not tok.isdigit():
                if i == 0 and month is None:
                    month = _month(tok)
                elif i == 1:
                    end_month = _month(tok)
            elif tok.isdigit() and i == 0:
                # "2017 11 09": numeric month then day; "2019 Feb 4": the day
                if month is None and day is None and year is not None and 1 <= int(tok) <= 12 \
                        and not re.search(r"[A-Za-z]", half):
                    month = int(tok)
                elif day is None and month is not None and 1 <= int(tok) <= 31:
                    day = int(tok)
    if year is None:
        year = article.pub_year
    if end_year is not None and end_year == year and end_month is None:
        end_year = None
    if end_month is not None and end_year is None:
        end_year = year
    season = "-".join(seasons) if seasons else None
    if season:
        month = end_month = None
        end_year = end_year if end_year != year else None
    return PubDate(year=year, month=month, day=day, end_year=end_year, end_month=end_month,
                   season=season, raw=raw)
