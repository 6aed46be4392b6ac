"""CSV for spreadsheets and screening tools (Excel, LibreOffice, Rayyan, Covidence).

(Named csvfmt, not csv, so it can never shadow the standard library module it uses.)

- Columns: PMID, Title, Authors, Journal, Year, Volume, Issue, Pages, DOI, PMCID, Publication
  types, Abstract (the design's contract), then Retracted, Retraction notices, Language, MeSH
  terms, Keywords, Topics, URL, and the evidence annotations: Design, Route, Drug, Condition,
  Participants, Phase, Control, Registry. Lists inside a cell are joined with "; ".
- UTF-8 with a byte-order mark, so Excel opens accented names correctly instead of guessing
  a legacy code page; RFC 4180 quoting with CRLF row ends; newlines inside abstracts stay inside
  their quoted cell.
- Spreadsheet formula injection is neutralised: a cell that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with ``'`` (OWASP's advice), so a title like
  "=HYPERLINK(...)" shows as text. Identifier columns (PMID, DOI, PMCID, Year) never need it.
"""

from __future__ import annotations

import csv
from typing import TextIO

from index.article import Article
from search.export.base import (
    ARTICLE,
    BOOK,
    CHAPTER,
    Exporter,
    cited_title,
    is_retracted,
    journal_title,
    parse_pub_date,
    record_kind,
    vancouver_name,
)

COLUMNS = ["PMID", "Title", "Authors", "Journal", "Year", "Volume", "Issue", "Pages", "DOI",
           "PMCID", "Publication types", "Abstract"]
EXTRA_COLUMNS = ["Retracted", "Retraction notices", "Language", "MeSH terms", "Keywords",
                 "Topics", "URL",
                 # the evidence annotations (index/annotations), one column per task
                 "Design", "Route", "Drug", "Condition", "Participants", "Phase", "Control",
                 "Registry"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _evidence_cells(article: Article) -> list[str | int | None]:
    """Design ... Registry: labels joined with "; ", participants as written (a number,
    not-applicable, or empty when unknown); all empty for a record never annotated."""
    ann = article.annotations or {}
    cells: list[str | int | None] = []
    for key in ("design", "route", "drug", "condition", "participants", "phase", "control",
                "registry"):
        value = ann.get(key)
        cells.append("; ".join(map(str, value)) if isinstance(value, list) else value)
    return cells


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


class CsvExporter(Exporter):
    newline = "\r\n"

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._writer = csv.writer(out, dialect="excel", lineterminator="\r\n")

    def start(self) -> None:
        self.out.write("\ufeff")
        self._writer.writerow(COLUMNS + EXTRA_COLUMNS)

    def write_record(self, article: Article) -> None:
        kind = record_kind(article)
        # a chapter's "journal" is its book; a whole book has only its publisher to show there
        journal = {ARTICLE: journal_title(article), CHAPTER: article.book_title,
                   BOOK: article.publisher}[kind]
        row = [
            article.pmid,
            cited_title(article),
            "; ".join(vancouver_name(a) for a in article.authors),
            journal,
            parse_pub_date(article).year,
            article.volume,
            article.issue,
            article.pages,
            article.doi,
            article.pmcid,
            "; ".join(article.publication_types),
            article.abstract,
            "yes" if is_retracted(article) else "no",
            "; ".join(article.retraction_pmids),
            "; ".join(article.languages),
            "; ".join(article.mesh_terms),
            "; ".join(article.keywords),
            "; ".join(sorted(article.topics)),
            article.pubmed_url,
            *_evidence_cells(article),
        ]
        self._writer.writerow(["" if v is None else neutralise(str(v)) for v in row])
