"""RIS export, read back with rispy (a reader nobody here wrote) and checked against Zotero."""

from __future__ import annotations

import dataclasses
import re

import pytest
import rispy

from index.article import Article
from tests.search.export_cases import (
    all_cases,
    book_articles,
    by_pmid,
    export,
    hard_cases,
    name_key,
    shared_articles,
    ws,
    zotero_creators,
    zotero_date,
    zotero_pairs,
)
from tests.search.outside_readers import citation_js, needs_citation_js, zotero_ris_creator


def _ris(articles: list[Article]) -> list[dict]:
    return rispy.loads(export(articles, "ris"))


def _expected_name(a) -> str:
    if a.collective:
        return a.collective.replace(",", "\u201a")
    given = a.fore or a.initials
    return f"{a.last}, {given}" if a.last and given else (a.last or given)


def test_rispy_reads_every_record_back_field_for_field():
    arts = all_cases()
    records = _ris(arts)
    assert len(records) == len(arts)
    for art, rec in zip(arts, records, strict=True):
        assert rec["accession_number"] == art.pmid
        title = art.title or art.vernacular_title or art.book_title
        expected_title = title[:-1] if title.endswith(".") else title
        if art.is_book and art.title == art.book_title:
            assert rec["type_of_reference"] == "BOOK"
        elif art.is_book:
            assert rec["type_of_reference"] == "CHAP"
        else:
            assert rec["type_of_reference"] == "JOUR"
            assert rec["title"] == expected_title, art.pmid
            # full journal title in T2 (NLM's "(Place)" qualifier dropped), abbreviation in J2
            assert art.journal.startswith(rec["secondary_title"])
            assert re.fullmatch(r"( \(.*\))?", art.journal[len(rec["secondary_title"]):])
            assert rec.get("alternate_title1") == art.journal_iso
            assert rec.get("number") == art.issue
            assert rec.get("issn") == art.issn
        assert rec.get("authors", []) == [_expected_name(a) for a in art.authors]
        assert rec.get("year") == (str(art.pub_year) if art.pub_year else None)
        assert rec.get("volume") == art.volume
        assert rec.get("doi") == art.doi
        assert rec.get("custom2") == art.pmcid
        assert f"https://pubmed.ncbi.nlm.nih.gov/{art.pmid}/" in rec["urls"]
        assert ws(rec.get("abstract")) == ws(art.abstract)
        kws = rec.get("keywords", [])
        assert len(kws) == len({k.casefold() for k in kws})
        assert {k.casefold() for k in kws} == {
            t.casefold() for t in [*(m.descriptor for m in art.mesh), *art.keywords]}
        if art.languages:
            assert rec["language"] == "; ".join(art.languages)
        if art.retracted:
            assert rec["notes"][0].startswith("RETRACTED publication")
        else:
            assert "notes" not in rec


def test_pages_split_into_sp_ep_with_the_abbreviated_end_expanded():
    arts = [by_pmid("18157122"), by_pmid("26074225")]  # 132-42, 5194-210
    recs = _ris(arts)
    assert (recs[0]["start_page"], recs[0]["end_page"]) == ("132", "142")
    assert (recs[1]["start_page"], recs[1]["end_page"]) == ("5194", "5210")
    many = next(a for a in hard_cases() if a.pmid == "90000014")  # 1234-45
    rec = _ris([many])[0]
    assert (rec["start_page"], rec["end_page"]) == ("1234", "1245")
    bare = next(a for a in hard_cases() if a.pmid == "90000008")
    rec = _ris([bare])[0]
    assert "start_page" not in rec and "volume" not in rec and "number" not in rec


@pytest.mark.parametrize(("pmid", "da"), [
    ("20729678", "2010/09//2010 Sep-Oct"),   # MedlineDate
    ("90000004", "2010/12//2010 Dec-2011 Jan"),
    ("90000005", "1998///1998 Winter-Spring"),  # Season
    ("90000006", "2018/07//2018 Jul-Oct"),
    ("90000007", "2002///2002 Spring"),
    ("90000008", "2023/05/17/"),
    ("18157122", "2008/02//"),
])
def test_da_keeps_what_is_known(pmid, da):
    art = next((a for a in hard_cases() if a.pmid == pmid), None) or by_pmid(pmid)
    assert _ris([art])[0]["date"] == da


def test_retracted_records_say_so_in_a_note_and_keep_their_title():
    retracted, unknown_notice = hard_cases()[0], hard_cases()[1]
    rec, rec2 = _ris([retracted, unknown_notice])
    assert rec["notes"] == ["RETRACTED publication; retraction notice PMID 90000099"]
    assert rec2["notes"] == ["RETRACTED publication"]
    assert rec["title"] == "Zotero: harnessing the power of a personal bibliographic manager"


def test_group_authors_particles_and_accents_one_per_line():
    art = next(a for a in hard_cases() if a.pmid == "90000003")
    text = export([art], "ris")
    au = [line[6:] for line in text.split("\r\n") if line.startswith("AU  - ")]
    assert au == ["van der Berg, Anna", "D'Angelo, Maria Grazia", "Müller, Jürgen",
                  "de la Cruz, José", "Øster-Ødegård, Ægir", "Pulido Guevara",
                  "ESKETINTRD3 Trial Investigators and the SUSTAIN Group\u201a Inc.", "Smith, J"]


def test_multiline_abstract_cannot_be_mistaken_for_tags():
    art = next(a for a in hard_cases() if a.pmid == "90000011")
    text = export([art], "ris")
    rec = rispy.loads(text)[0]
    assert "OR  - this line looks like a RIS tag" in rec["abstract"]
    assert rec["abstract"].endswith("ER  - so does this")
    assert ws(rec["abstract"]) == ws(art.abstract)
    assert "unknown_tag" not in rec
    assert len(rec["abstract"]) > 20_000


def test_crlf_line_ends_and_one_record_per_ty_er():
    text = export(list(shared_articles())[:5], "ris")
    assert "\n" not in text.replace("\r\n", "")
    assert text.count("TY  - ") == text.count("ER  - ") == 5
    assert all(re.match(r"^([A-Z][A-Z0-9]  - |$)", line) or line.startswith(" ") or
               not re.match(r"^[A-Z][A-Z0-9] {1,2}-", line) for line in text.split("\r\n"))


def test_book_and_chapter_records():
    book, chapter = book_articles()
    rb, rc = _ris([book, chapter])
    assert rb["type_of_reference"] == "BOOK"
    assert rb["title"] == "Endocrinology: An Integrated Approach"
    assert rb["publisher"] == "BIOS Scientific Publishers" and rb["place_published"] == "Oxford"
    assert rb["issn"] == "1859962521"  # SN carries the ISBN for books
    assert "https://www.ncbi.nlm.nih.gov/books/NBK22/" in rb["urls"]
    assert rc["type_of_reference"] == "CHAP"
    assert rc["title"] == chapter.title.rstrip(".")
    assert rc["secondary_title"].startswith("GeneReviews")
    assert rc.get("secondary_authors") == [_expected_name(e) for e in chapter.editors]


@pytest.mark.parametrize("case", zotero_pairs(), ids=lambda c: c[0])
def test_same_fields_as_zoteros_import(case):
    _, art, item = case
    rec = _ris([art])[0]
    assert rec["title"] == item["title"]
    ours = [name_key(*(n.split(", ", 1) if ", " in n else (n, None))) for n in rec["authors"]]
    assert ours == zotero_creators(item)
    year, month, day = zotero_date(item["date"])
    da = [int(p) if p.isdigit() else None for p in rec["date"].split("/")[:3]]
    assert da == [year, month, day]
    if item["itemType"] == "journalArticle":
        assert rec["secondary_title"].casefold() == item["publicationTitle"].casefold()
    assert rec.get("volume") == item.get("volume")
    assert rec.get("number") == item.get("issue")
    # Zotero falls back to the ELocationID pii, which the Article does not keep; its preprint
    # items have no pages field at all
    if art.pages and "pages" in item:
        pages = rec["start_page"] + (f"-{rec['end_page']}" if rec.get("end_page") else "")
        assert pages == item["pages"]
    assert rec.get("doi") == item.get("DOI")
    assert ws(rec.get("abstract")) == ws(item.get("abstractNote"))


# -- group authors: one creator in Zotero and citation-js (issue 13 point 2) ----------------------

GROUPS = ["ENIGMA Consortium, Depression Working Group",
          "ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc.",
          "Psychiatric Genomics Consortium, Major Depressive Disorder Working Group, and others",
          "STAR*D Investigators"]


def _group_record() -> Article:
    from index.article import Author
    art = next(a for a in hard_cases() if a.pmid == "90000003")
    return dataclasses.replace(art, authors=[Author(last="Smith", fore="Jane", initials="J"),
                                             *(Author(collective=g) for g in GROUPS)])


def _au_values(text: str) -> list[str]:
    return [line[6:] for line in text.split("\r\n") if line.startswith("AU  - ")]


def test_group_authors_are_one_creator_in_zoteros_ris_import():
    values = _au_values(export([_group_record()], "ris"))
    creators = [zotero_ris_creator(v) for v in values]
    assert creators[0] == {"lastName": "Smith", "firstName": "Jane"}
    assert all(c.get("fieldMode") == 1 for c in creators[1:])
    # the name reads as PubMed writes it: only the comma's code point differs
    assert [c["lastName"].replace("\u201a", ",") for c in creators[1:]] == GROUPS


def test_group_authors_stay_whole_in_rispy():
    rec = _ris([_group_record()])[0]
    assert len(rec["authors"]) == 1 + len(GROUPS)
    assert [a.replace("\u201a", ",") for a in rec["authors"][1:]] == GROUPS


@needs_citation_js
def test_group_authors_are_one_creator_in_citation_js():
    items, bibliography = citation_js(export([_group_record()], "ris"), "ris")
    (item,) = items
    assert item["author"][0] == {"family": "Smith", "given": "Jane"}
    assert [a.get("literal", "").replace("\u201a", ",") for a in item["author"][1:]] == GROUPS
    assert "Depression Working Group" in bibliography
