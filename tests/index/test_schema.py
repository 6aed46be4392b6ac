"""Article -> Whoosh document mapping."""

from __future__ import annotations

from index.article import Article, Author, MeshHeading
from index.schema import (
    SCHEMA_VERSION,
    article_to_document,
    build_schema,
    facet_key,
    parse_facet_key,
    sort_date,
)


def _article() -> Article:
    return Article(
        pmid="1", title="Ketamine for TRD", abstract="Text.",
        authors=[Author(last="Smith", fore="Jane", initials="J"), Author(collective="KET Group")],
        journal="Journal of Things", journal_iso="J Things", pub_year=2020,
        epub_date="2020-05-06", entrez_date="2020-04-01", languages=["eng"],
        publication_types=["Journal Article", "Clinical Trial, Phase II"],
        mesh=[MeshHeading("Ketamine", True, (("therapeutic use", False),))],
        keywords=["esketamine"], chemicals=["Ketamine"], topics={"ptsd", "depression"})


def test_document_fields_cover_every_searchable_part() -> None:
    doc = article_to_document(_article())
    schema = build_schema()
    assert set(doc) <= set(schema.names())
    assert doc["pmid"] == "1"
    assert "Smith J" in doc["author"] and "Smith Jane" in doc["author"]
    assert "KET Group" in doc["author"]
    assert "therapeutic use" in doc["mesh"]
    assert "esketamine" in doc["keywords"] and "Ketamine" in doc["keywords"]
    for part in ("Ketamine for TRD", "Text.", "esketamine", "therapeutic use"):
        assert part in doc["text"]
    assert doc["topic"] == "depression,ptsd"
    # A comma inside a publication type must not split it into two keywords.
    assert doc["pubtype"].split(",") == ["Journal Article", "Clinical Trial  Phase II"]
    assert doc["hasabs"] is True and doc["year"] == 2020


def test_missing_values_stay_out_of_the_document() -> None:
    doc = article_to_document(Article(pmid="2"))
    assert "year" not in doc
    assert doc["hasabs"] is False and doc["date"] == 0
    assert doc["title"] == ""


def test_sort_date_prefers_the_electronic_date() -> None:
    assert sort_date(_article()) == 20200506
    assert sort_date(Article(pmid="3", entrez_date="2019-01-02")) == 20190102
    assert sort_date(Article(pmid="4", pub_year=2001)) == 20010101


def test_facet_key_round_trips() -> None:
    art = _article()
    assert parse_facet_key(facet_key(art)) == (
        "2020", ("depression", "ptsd"), ("Journal Article", "Clinical Trial, Phase II"))
    assert parse_facet_key(facet_key(Article(pmid="5"))) == ("", (), ())


def test_schema_version_is_an_int() -> None:
    assert isinstance(SCHEMA_VERSION, int) and SCHEMA_VERSION >= 1
