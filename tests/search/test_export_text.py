"""The Vancouver (NLM) reference list."""

from __future__ import annotations

import dataclasses
import re

from tests.search.export_cases import all_cases, book_articles, by_pmid, export, hard_cases


def test_pubmeds_own_nlm_citation():
    # PubMed's "Cite > NLM" for PMID 20729678, character for character. (The record's XML has
    # only MedlineTA, which the Article does not keep, so the abbreviation is supplied here.)
    art = dataclasses.replace(by_pmid("20729678"), journal_iso="Nurse Educ")
    assert export([art], "text") == (
        "1. Coar JT, Sewell JP. Zotero: harnessing the power of a personal bibliographic "
        "manager. Nurse Educ. 2010 Sep-Oct;35(5):205-7. doi: 10.1097/NNE.0b013e3181ed81e4. "
        "PMID: 20729678.\n")


def test_one_numbered_line_per_record():
    arts = all_cases()
    lines = export(arts, "text").splitlines()
    assert len(lines) == len(arts)
    for n, (art, line) in enumerate(zip(arts, lines, strict=True), 1):
        assert line.startswith(f"{n}. ")
        assert f"PMID: {art.pmid}" in line
        assert line.endswith(".")
        if art.doi:
            assert f"doi: {art.doi}." in line


def test_more_than_six_authors_gives_et_al():
    art = next(a for a in hard_cases() if a.pmid == "90000014")
    line = export([art], "text")
    assert line.startswith("1. Author1 A, Author2 A, Author3 A, Author4 A, Author5 A, "
                           "Author6 A, et al. Zotero")
    assert "Author7" not in line


def test_retraction_is_stated():
    known, unknown = hard_cases()[0], hard_cases()[1]
    lines = export([known, unknown], "text").splitlines()
    assert lines[0].endswith("PMID: 90000001. Retraction in: PMID: 90000099.")
    assert lines[1].endswith("Retracted publication.")


def test_missing_volume_and_pages_and_non_english_titles():
    bare = next(a for a in hard_cases() if a.pmid == "90000008")
    assert " Nurse Educ. 2023 May 17. doi:" in export([bare], "text")
    german = next(a for a in hard_cases() if a.pmid == "90000010")
    assert "[Ketamine in treatment-resistant depression]. Nurse Educ." in export([german], "text")
    many = next(a for a in hard_cases() if a.pmid == "90000003")
    assert export([many], "text").startswith(
        "1. van der Berg A, D'Angelo MG, Müller J, de la Cruz J, Øster-Ødegård Æ, "
        "Pulido Guevara, et al. Zotero")
    group = dataclasses.replace(many, authors=many.authors[5:])
    assert export([group], "text").startswith(
        "1. Pulido Guevara, ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc., "
        "Smith J. Zotero")


def test_books_and_chapters():
    book, chapter = book_articles()
    b, c = export([book, chapter], "text").splitlines()
    assert b == ("1. Nussey S, Whitehead S. Endocrinology: An Integrated Approach [Internet]. "
                 "Oxford: BIOS Scientific Publishers; 2001. PMID: 20821847.")
    assert re.match(r"2\. .+\. In: .+, editors\. GeneReviews.* \[Internet\]\. .+; .+\. "
                    r"PMID: 20301577\.$", c), c
