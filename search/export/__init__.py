"""Citation exports: RIS, BibTeX, biblatex, MEDLINE (.nbib), CSL-JSON, CSV and a Vancouver reference list.

Each format is an :class:`~search.export.base.Exporter` (``start()`` / ``write(article)`` /
``finish()``) over a text stream, so any iterable of Articles streams out in constant memory:

    write_export(articles, "ris", out)        # -> number of records written
    EXPORT_FORMATS["bibtex"].media_type       # for the web server's Content-Type
    export_selection(settings, fmt="csv", query="esketamine", filters={...}, output=path)

``export_selection`` (the CLI's entry point) chooses the records (a query with filters, a
``--pmids`` file, or everything) and writes them atomically to a file or to stdout.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from index.article import Article
from index.errors import UsageError
from search.export.base import Exporter, ExportFormat
from search.export.biblatex import BiblatexExporter
from search.export.bibtex import BibtexExporter
from search.export.csljson import CslJsonExporter
from search.export.csvfmt import CsvExporter
from search.export.medline import MedlineExporter
from search.export.ris import RisExporter
from search.export.text import TextExporter

# The registry of export formats: the CLI, the API, the page and the docs test read this one dict
# (add a format here and in README.md's Exports table, nowhere else). Labels are short: they are
# the page's export menu, which must fit a phone's width.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f for f in (
        ExportFormat("ris", "application/x-research-info-systems", "ris", RisExporter,
                     "RIS (Zotero, EndNote, Mendeley)"),
        ExportFormat("bibtex", "application/x-bibtex", "bib", BibtexExporter,
                     "BibTeX"),
        ExportFormat("biblatex", "application/x-bibtex", "bib", BiblatexExporter,
                     "biblatex (UTF-8, biber)"),
        ExportFormat("medline", "application/x-medline", "nbib", MedlineExporter,
                     "MEDLINE (.nbib)"),
        ExportFormat("csl-json", "application/vnd.citationstyles.csl+json", "json",
                     CslJsonExporter, "CSL-JSON"),
        ExportFormat("csv", "text/csv", "csv", CsvExporter, "CSV (spreadsheet)"),
        ExportFormat("text", "text/plain", "txt", TextExporter,
                     "Text (Vancouver)"),
    )
}


def format_names() -> tuple[str, ...]:
    """Every export format's name, in the registry's order (the CLI's --format choices, the
    API's ``format`` values, the page's menu)."""
    return tuple(EXPORT_FORMATS)


def format_labels() -> dict[str, str]:
    """{name: label}: the one label each format shows, on the page and in the API's docs."""
    return {name: f.label or name for name, f in EXPORT_FORMATS.items()}


def get_format(fmt: str) -> ExportFormat:
    try:
        return EXPORT_FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown export format {fmt!r}; choose one of "
                         + ", ".join(EXPORT_FORMATS)) from None


def get_exporter(fmt: str, out: TextIO) -> Exporter:
    """A fresh exporter for ``fmt`` writing to ``out`` (call start/write/finish on it)."""
    return get_format(fmt).exporter(out)


def write_export(articles: Iterable[Article], fmt: str, out: TextIO) -> int:
    """Stream ``articles`` to ``out`` in ``fmt``; returns how many were written."""
    exporter = get_exporter(fmt, out)
    exporter.start()
    for article in articles:
        exporter.write(article)
    exporter.finish()
    return exporter.count


def export_selection(settings: Any, *, fmt: str, query: str | None = None,
                     pmids_file: Path | None = None, filters: dict[str, Any] | None = None,
                     sort: str = "relevance", output: Path | None = None,
                     progress: Any = None, rank: str | None = None) -> int:
    """Choose records and export them (see search.export.selection); ``progress`` is an
    index.progress.Progress told each record written."""
    from search.export.selection import export_selection as _export

    return _export(settings, fmt=fmt, query=query, pmids_file=pmids_file, filters=filters,
                   sort=sort, output=output, progress=progress, rank=rank)


__all__ = ["EXPORT_FORMATS", "ExportFormat", "Exporter", "export_selection", "format_labels",
           "format_names", "get_exporter", "get_format", "write_export"]
