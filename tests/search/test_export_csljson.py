"""CSL-JSON export: valid against the CSL data schema, rendered by citeproc-py, same fields as
Zotero's import."""

from __future__ import annotations

import json
import warnings

import jsonschema
import pytest
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter as cp_formatter
from citeproc.source.json import CiteProcJSON

from tests.search.export_cases import (
    all_cases,
    book_articles,
    by_pmid,
    export,
    hard_cases,
    name_key,
    ws,
    zotero_creators,
    zotero_date,
    zotero_pairs,
)

# The structure of citation-style-language/schema schemas/input/csl-data.json (v1.0): an array
# of items with required type and id, only the schema's variables (additionalProperties false),
# names as {family, given, ...} or {literal}, dates as date-parts (1-2 parts of 1-3 numbers or
# strings) with season/circa/literal/raw, or an EDTF string. Written out here rather than
# vendored; the variable lists below are the schema's.
_TYPES = ["article", "article-journal", "article-magazine", "article-newspaper", "bill", "book",
          "broadcast", "chapter", "classic", "collection", "dataset", "document", "entry",
          "entry-dictionary", "entry-encyclopedia", "event", "figure", "graphic", "hearing",
          "interview", "legal_case", "legislation", "manuscript", "map", "motion_picture",
          "musical_score", "pamphlet", "paper-conference", "patent", "performance", "periodical",
          "personal_communication", "post", "post-weblog", "regulation", "report", "review",
          "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage"]
_NAME_VARS = ["author", "chair", "collection-editor", "compiler", "composer", "container-author",
              "contributor", "curator", "director", "editor", "editorial-director",
              "executive-producer", "interviewer", "illustrator", "organizer", "original-author",
              "performer", "producer", "recipient", "reviewed-author", "translator"]
_DATE_VARS = ["accessed", "available-date", "container", "event-date", "issued", "original-date",
              "submitted"]
_STRING_VARS = ["language", "journalAbbreviation", "shortTitle", "abstract", "annote", "archive",
                "archive_collection", "archive_location", "archive-place", "authority",
                "call-number", "citation-label", "collection-title", "container-title",
                "container-title-short", "dimensions", "division", "DOI", "event", "event-place",
                "genre", "ISAN", "ISBN", "ISCI", "ISMN", "ISRC", "ISSN", "ISWC", "jurisdiction",
                "keyword", "medium", "note", "original-publisher", "original-publisher-place",
                "original-title", "part-title", "PMCID", "PMID", "publisher", "publisher-place",
                "references", "reviewed-title", "scale", "section", "source", "status", "title",
                "title-short", "translated-title", "translated-title-short", "URL", "version",
                "year-suffix"]
_NUMBER_VARS = ["chapter-number", "citation-number", "collection-number", "edition",
                "first-reference-note-number", "issue", "locator", "number", "number-of-pages",
                "number-of-volumes", "page", "page-first", "part", "printing", "supplement",
                "volume"]
_SN = {"type": ["string", "number"]}
_SNB = {"type": ["string", "number", "boolean"]}
CSL_DATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": _TYPES},
            "id": _SN,
            "categories": {"type": "array", "items": {"type": "string"}},
            "custom": {"type": "object"},
            **{v: {"type": "array", "items": {"$ref": "#/definitions/name-variable"}}
               for v in _NAME_VARS},
            **{v: {"$ref": "#/definitions/date-variable"} for v in _DATE_VARS},
            **{v: {"type": "string"} for v in _STRING_VARS},
            **{v: _SN for v in _NUMBER_VARS},
        },
        "required": ["type", "id"],
        "additionalProperties": False,
    },
    "definitions": {
        "name-variable": {"anyOf": [{
            "properties": {"family": {"type": "string"}, "given": {"type": "string"},
                           "dropping-particle": {"type": "string"},
                           "non-dropping-particle": {"type": "string"},
                           "suffix": {"type": "string"}, "comma-suffix": _SNB,
                           "static-ordering": _SNB, "literal": {"type": "string"},
                           "parse-names": _SNB},
            "additionalProperties": False}]},
        "edtf-datatype": {"type": "string", "pattern": "[0-9,-,%,~,X,?,..,/]"},
        "date-variable": {"anyOf": [
            {"$ref": "#/definitions/edtf-datatype"},
            {"properties": {
                "date-parts": {"type": "array", "minItems": 1, "maxItems": 2,
                               "items": {"type": "array", "minItems": 1, "maxItems": 3,
                                         "items": _SN}},
                "season": _SN, "circa": _SNB, "literal": {"type": "string"},
                "raw": {"type": "string"}, "edtf": {"$ref": "#/definitions/edtf-datatype"}},
             "additionalProperties": False}]},
    },
}


def _items(articles) -> list[dict]:
    return json.loads(export(articles, "csl-json"))


def test_valid_against_the_csl_data_schema():
    data = _items(all_cases())
    jsonschema.validate(data, CSL_DATA_SCHEMA)
    assert len(data) == len(all_cases())
    # the validator does reject what the schema forbids (so the check above means something)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**data[0], "pmid": "1"}], CSL_DATA_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**data[0], "author": [{"name": "x"}]}], CSL_DATA_SCHEMA)


def test_empty_export_is_an_empty_array():
    assert json.loads(export([], "csl-json")) == []


def test_citeproc_py_renders_every_item():
    arts = all_cases()
    data = _items(arts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unsupported variable would warn
        source = CiteProcJSON(data)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bib = CitationStylesBibliography(style, source, cp_formatter.plain)
    for item in data:
        bib.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bib.bibliography()]
    assert len(rendered) == len(data)
    by_title = {}
    for text in rendered:
        by_title[text] = True
    for item in data:
        title = ws(item.get("title", ""))[:40]
        assert any(title in r for r in rendered), item["id"]
        first = (item.get("author") or [{}])[0]
        family = first.get("family") or first.get("literal")
        if family:
            assert any(family.split()[-1] in r for r in rendered), item["id"]


@pytest.mark.parametrize(("pmid", "issued"), [
    ("18157122", {"date-parts": [[2008, 2]]}),
    ("20729678", {"date-parts": [[2010, 9], [2010, 10]]}),           # MedlineDate Sep-Oct
    ("90000004", {"date-parts": [[2010, 12], [2011, 1]]}),           # across years
    ("90000005", {"date-parts": [[1998]], "season": "Winter-Spring"}),
    ("90000007", {"date-parts": [[2002]], "season": "Spring"}),
    ("90000008", {"date-parts": [[2023, 5, 17]]}),
    ("20821847", {"date-parts": [[2001]]}),
])
def test_issued_dates(pmid, issued):
    art = next((a for a in hard_cases() if a.pmid == pmid), None) or by_pmid(pmid)
    assert _items([art])[0]["issued"] == issued


def test_group_authors_are_literal_and_particles_stay_in_family():
    art = next(a for a in hard_cases() if a.pmid == "90000003")
    authors = _items([art])[0]["author"]
    assert authors[0] == {"family": "van der Berg", "given": "Anna"}
    assert authors[2] == {"family": "Müller", "given": "Jürgen"}
    assert authors[5] == {"family": "Pulido Guevara"}
    assert authors[6] == {"literal": "ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc."}


def test_non_english_title_keeps_the_vernacular_as_original_title():
    german = next(a for a in hard_cases() if a.pmid == "90000010")
    vernacular_only = next(a for a in hard_cases() if a.pmid == "90000012")
    g, v = _items([german, vernacular_only])
    assert g["title"] == "[Ketamine in treatment-resistant depression]"
    assert g["original-title"] == "Ketamin bei therapieresistenter Depression"
    assert g["language"] == "ger"
    assert v["title"] == "Psykisk ohälsa och terrorism" and "original-title" not in v


def test_retracted_items_have_status_and_note():
    item, plain = _items([hard_cases()[0], by_pmid("20729678")])
    assert item["status"] == "retracted"
    assert item["note"] == "RETRACTED publication; retraction notice PMID 90000099"
    assert "status" not in plain and "note" not in plain


def test_book_and_chapter_types():
    book, chapter = _items(list(book_articles()))
    assert book["type"] == "book" and book["publisher"] == "BIOS Scientific Publishers"
    assert book["ISBN"] == "1859962521" and book["publisher-place"] == "Oxford"
    assert chapter["type"] == "chapter" and chapter["container-title"].startswith("GeneReviews")
    assert chapter["editor"]


@pytest.mark.parametrize("case", zotero_pairs(), ids=lambda c: c[0])
def test_same_fields_as_zoteros_import(case):
    _, art, item = case
    ours = _items([art])[0]
    assert ours["title"] == item["title"]
    names = [name_key(a.get("family") or a.get("literal"), a.get("given"))
             for a in ours.get("author", [])]
    assert names == zotero_creators(item)
    year, month, day = zotero_date(item["date"])
    parts = ours["issued"]["date-parts"][0]
    assert parts == [p for p in (year, month, day) if p is not None]
    if item["itemType"] == "journalArticle":
        assert ours["container-title"].casefold() == item["publicationTitle"].casefold()
        if art.journal_iso:  # (Zotero falls back to MedlineTA, which the Article lacks)
            assert ours["container-title-short"] == item["journalAbbreviation"]
    assert ours.get("volume") == item.get("volume")
    assert ours.get("issue") == item.get("issue")
    if art.pages and "pages" in item:  # Zotero's preprint items have no pages
        assert ours["page"] == item["pages"]
    assert ours.get("DOI") == item.get("DOI")
    assert ws(ours.get("abstract")) == ws(item.get("abstractNote"))


def test_title_markup_is_kept_as_csl_rich_text() -> None:
    from harvester.parse import iter_pubmed
    from index.article import Article
    from search.export.csljson import csl_item
    from tests.helpers import EFETCH_XML

    path = EFETCH_XML / "biopython" / "Tests" / "Entrez" / "pubmed4.xml"
    (art,) = [a for a in iter_pubmed(path) if isinstance(a, Article) and a.pmid == "27797938"]
    assert art.title and "<i>" not in art.title  # the plain title for the index and text formats
    item = csl_item(art)
    assert "the <i>TERT</i> gene region" in item["title"]
    assert not item["title"].endswith(".")
    # A record without markup keeps its plain title.
    plain = Article(pmid="1", title="Ketamine for depression.")
    assert csl_item(plain)["title"] == "Ketamine for depression"
