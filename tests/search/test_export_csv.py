"""CSV export, read back with the csv module."""

from __future__ import annotations

import csv
import io

from search.export.csvfmt import COLUMNS
from tests.search.export_cases import all_cases, book_articles, by_pmid, export, hard_cases


def _rows(articles) -> tuple[str, list[dict[str, str]]]:
    text = export(articles, "csv")
    return text, list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_columns_bom_and_every_record_read_back():
    arts = all_cases()
    text, rows = _rows(arts)
    assert text.startswith("\ufeffPMID,Title,Authors,Journal,Year,")
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header[:12] == COLUMNS == ["PMID", "Title", "Authors", "Journal", "Year", "Volume",
                                      "Issue", "Pages", "DOI", "PMCID", "Publication types",
                                      "Abstract"]
    assert {"Retracted", "Topics", "URL"} <= set(header[12:])
    assert len(rows) == len(arts)
    for art, row in zip(arts, rows, strict=True):
        assert row["PMID"] == art.pmid
        title = art.title or art.vernacular_title or art.book_title
        assert row["Title"].removeprefix("'") == title
        assert row["Year"] == (str(art.pub_year) if art.pub_year else "")
        assert row["Volume"] == (art.volume or "") and row["Issue"] == (art.issue or "")
        assert row["Pages"] == (art.pages or "") and row["DOI"] == (art.doi or "")
        assert row["PMCID"] == (art.pmcid or "")
        assert row["Publication types"] == "; ".join(art.publication_types)
        assert row["Abstract"] == (art.abstract or "")  # newlines kept inside the cell
        assert len(row["Authors"].split("; ")) == len(art.authors) or not art.authors
        assert row["Retracted"] == ("yes" if art.retracted else "no")
        assert row["URL"] == f"https://pubmed.ncbi.nlm.nih.gov/{art.pmid}/"


def test_crlf_rows_and_multiline_abstracts_stay_in_one_cell():
    art = next(a for a in hard_cases() if a.pmid == "90000011")
    text, rows = _rows([art])
    assert "\n" in rows[0]["Abstract"] and rows[0]["Abstract"] == art.abstract
    assert text.endswith("\r\n")
    assert len(rows) == 1


def test_formulas_are_neutralised():
    art = next(a for a in hard_cases() if a.pmid == "90000013")
    _, rows = _rows([art])
    assert rows[0]["Title"] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert rows[0]["Authors"] == "'+Plus M; @Home A"
    plain = by_pmid("20729678")
    _, rows = _rows([plain])
    assert not rows[0]["Title"].startswith("'")


def test_utf8_names_and_group_authors():
    art = next(a for a in hard_cases() if a.pmid == "90000003")
    text, rows = _rows([art])
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert rows[0]["Authors"].split("; ") == [
        "van der Berg A", "D'Angelo MG", "Müller J", "de la Cruz J", "Øster-Ødegård Æ",
        "Pulido Guevara", "ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc.", "Smith J"]


def test_books_show_book_title_or_publisher_as_journal():
    book, chapter = book_articles()
    _, rows = _rows([book, chapter])
    assert rows[0]["Journal"] == "BIOS Scientific Publishers"
    assert rows[1]["Journal"].startswith("GeneReviews")


def test_retracted_rows():
    _, rows = _rows([hard_cases()[0]])
    assert rows[0]["Retracted"] == "yes" and rows[0]["Retraction notices"] == "90000099"
