"""harvester.medline: MEDLINE/.nbib text -> Article, on the shared files and derived variants."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from harvester.medline import iter_medline
from harvester.parse import PubMedParseError
from index.article import Article, Grant
from tests.helpers import PUBMED_DATA

MEDLINE = PUBMED_DATA / "medline-nbib"
RESULT2 = MEDLINE / "biopython" / "Tests" / "Medline" / "pubmed_result2.txt"
RESULT4 = MEDLINE / "biopython-2023" / "Tests" / "Medline" / "pubmed_result4.txt"
EFETCH2 = MEDLINE / "biopython-2015" / "Tests" / "Entrez" / "efetch2.txt"


def by_pmid(path: Path) -> dict[str, Article]:
    return {a.pmid: a for a in iter_medline(path)}


def test_every_shared_medline_file_parses() -> None:
    files = sorted(p for p in MEDLINE.rglob("*") if p.is_file())
    assert len(files) == 5
    pmids = [a.pmid for f in files for a in iter_medline(f)]
    # MANIFEST: 8 records
    assert sorted(pmids) == sorted(["19304878", "37195739", "12230038", "16403221", "16377612",
                                    "14871861", "14630660", "23039619"])
    for f in files:
        for a in iter_medline(f):
            assert a.title and a.authors and a.journal and a.pub_year and a.entrez_date
            assert a.status in ("MEDLINE", "Publisher")
            for key, value in a.to_dict().items():
                assert value != "", (a.pmid, key)
            assert Article.from_json(a.to_json()) == a


def test_record_fields_pubmed_result2() -> None:
    recs = by_pmid(RESULT2)
    assert list(recs) == ["16403221", "16377612", "14871861", "14630660"]
    a = recs["16403221"]
    assert a.title == "A high level interface to SCOP and ASTRAL implemented in python."
    assert [(x.last, x.fore, x.initials) for x in a.authors] == [
        ("Casbon", "James A", "JA"), ("Crooks", "Gavin E", "GE"), ("Saqi", "Mansoor A S", "MA")]
    # the old record-level AD (written before the authors) is the first author's
    assert a.authors[0].affiliations[0].startswith("Bioinformatics, Institute of Cell and")
    assert a.authors[0].affiliations[0].endswith("London EC1 6BQ, UK. j.a.casbon@qmul.ac.uk")
    assert a.authors[1].affiliations == ()
    assert (a.journal, a.journal_iso, a.issn) == ("BMC bioinformatics", "BMC Bioinformatics",
                                                  "1471-2105")
    assert (a.volume, a.issue, a.pages) == ("7", None, "10")
    assert (a.pub_year, a.pub_date, a.epub_date) == (2006, "2006", "2006-01-10")
    assert a.doi == "10.1186/1471-2105-7-10"  # from AID ... [doi]; the [pii] AID is not a DOI
    assert a.pmcid == "PMC1373603"
    assert a.entrez_date == "2006-01-13"
    assert a.revised_date is None
    assert a.publication_types == ["Evaluation Studies", "Journal Article"]
    assert a.languages == ["eng"]
    # structured abstract recovered from the inline headings
    assert [lab for lab, _ in a.abstract_sections] == ["BACKGROUND", "RESULTS", "CONCLUSION"]
    assert a.abstract.startswith("BACKGROUND: Benchmarking algorithms")
    assert "\nRESULTS: We have designed" in a.abstract
    mesh = {m.descriptor: m for m in a.mesh}
    assert mesh["Software"].major and not mesh["Programming Languages"].major
    assert mesh["Information Storage and Retrieval"].qualifiers == (("methods", True),)

    b = recs["16377612"]
    assert (b.volume, b.issue, b.pages, b.pub_date) == ("22", "5", "616-7", "2006 Mar 1")
    assert b.revised_date == "2006-11-15"
    assert recs["14630660"].chemicals == ["Macromolecular Substances"]


def test_publisher_record_with_per_author_affiliations() -> None:
    [a] = list(iter_medline(RESULT4))
    assert a.pmid == "37195739"
    assert a.status == "Publisher"
    assert a.title == ("High extracellular glucose promotes cell motility by modulating cell "
                       "deformability and contractility via cAMP-RhoA-ROCK axis in human breast "
                       "cancer cells.")  # three continuation lines joined with single spaces
    assert [x.display for x in a.authors] == ["Oh M", "Batty S", "Banerjee N", "Kim TH"]
    assert a.authors[0].affiliations == ("Department of Pathology, School of Medicine.",)
    assert a.authors[1].affiliations == (
        "Undergraduate Pipeline Network Summer Research Program, University of New Mexico "
        "Health Sciences Center.",
        "Department of Molecular and Cellular Biology, University of Arizona, Tucson, AZ "
        "85721, USA.")
    assert len(a.authors[3].affiliations) == 2
    assert a.issn == "1939-4586"  # the article's ISSN, not the (Linking) one
    assert a.doi == "10.1091/mbc.E22-12-0560"
    assert a.pages == "mbcE22120560"
    assert (a.pub_date, a.epub_date, a.entrez_date, a.revised_date) == (
        "2023 May 17", "2023-05-17", "2023-05-17", "2023-05-17")
    assert a.abstract_sections == [(None, a.abstract)]  # unstructured: "(>5 mM)" is no heading
    assert a.mesh == []


def test_efetch_rettype_medline_2015() -> None:
    [a] = list(iter_medline(EFETCH2))
    assert a.pmid == "19304878"
    assert a.title.startswith("Biopython: freely available Python tools")
    assert a.journal == "Bioinformatics (Oxford, England)"
    assert a.doi == "10.1093/bioinformatics/btp163"
    assert (a.pub_date, a.pub_year) == ("2009 Jun 1", 2009)
    assert a.authors[0].last == "Cock" and a.authors[-1].last == "de Hoon"
    assert [lab for lab, _ in a.abstract_sections] == ["SUMMARY", "AVAILABILITY"]


DERIVED = """\
PMID- 39999999
OWN - NLM
STAT- MEDLINE
LR  - 20240102
IS  - 0000-0000 (Linking)
IS  - 1234-5678 (Print)
VI  - 12
IP  - 3
DP  - 2010 Sep-Oct
TI  -
TT  - Ketamin bei Depression.
PG  - 79-89
LID - 10.1000/xyz.123 [doi]
AB  - OBJECTIVE: To test. METHODS (SECOND PART): We did. RESULTS: It worked (P<0.05).
      CONCLUSIONS: Good.
FAU - Smith, John A
AU  - Smith JA
AUID- ORCID: https://orcid.org/0000-0002-1694-233x
AD  - Dept A.
CN  - Ketamine Study Group
FAU - Doe, Jane
AU  - Doe J
AD  - Dept B, a long
      affiliation.
LA  - ger
PT  - Journal Article
PT  - Retracted Publication
TA  - Ther Ex
JT  - Therapy example
RN  - 690G0D6V8H (Ketamine)
RN  - EC 1.1.1.1 (Alcohol Dehydrogenase)
OT  - ketamine
OT  - depression
OT  - ketamine
RIN - Ther Ex. 2011;13:1. PMID: 40000001
ECI - Ther Ex. 2011;12:9. PMID: 40000002
EIN - Ther Ex. 2010;12:100. PMID: 40000003
OAB - Kurzfassung.
OABL- ger
EDAT- 2010/10/01 06:00
CRDT- 2010/09/30 06:00
PMID- 40000004
TI  - Run together without a blank line.
BTI - A Book of Records
PB  - Example Press
PL  - Seattle (WA)
ISBN- 9780000000002
FED - Adam, Margaret P
ED  - Adam MP
FAU - Roe, Richard
AU  - Roe R
AID - NBK1116 [bookaccession]
DP  - 1993
EDAT- 2010/03/20 06:00
"""


def test_derived_record_every_field() -> None:
    a, book = list(iter_medline(io.StringIO(DERIVED)))
    assert a.pmid == "39999999"
    assert a.title == a.vernacular_title == "Ketamin bei Depression."  # empty TI
    assert (a.pub_year, a.pub_date) == (2010, "2010 Sep-Oct")
    assert a.issn == "1234-5678"
    assert [(x.display, x.orcid) for x in a.authors] == [
        ("Smith JA", "0000-0002-1694-233X"), ("Ketamine Study Group", None), ("Doe J", None)]
    assert a.authors[0].affiliations == ("Dept A.",)
    assert a.authors[1].collective == "Ketamine Study Group" and a.authors[1].affiliations == ()
    assert a.authors[2].affiliations == ("Dept B, a long affiliation.",)
    assert [lab for lab, _ in a.abstract_sections] == ["OBJECTIVE", "METHODS (SECOND PART)",
                                                       "RESULTS", "CONCLUSIONS"]
    assert a.abstract_sections[2] == ("RESULTS", "It worked (P<0.05).")
    assert a.retracted and a.retraction_pmids == ["40000001"]
    assert a.concern_pmids == ["40000002"] and a.erratum_pmids == ["40000003"]
    assert a.chemicals == ["Ketamine", "Alcohol Dehydrogenase"]
    assert a.keywords == ["ketamine", "depression"]
    assert a.other_abstracts == [("ger", "Kurzfassung.")]
    assert a.entrez_date == "2010-10-01" and a.revised_date == "2024-01-02"
    assert a.record_type == "article" and a.journal == "Therapy example"

    assert book.pmid == "40000004" and book.record_type == "book"
    assert book.book_title == "A Book of Records" and book.journal is None
    assert (book.publisher, book.publisher_location, book.isbn) == (
        "Example Press", "Seattle (WA)", "9780000000002")
    assert [(x.last, x.fore, x.initials) for x in book.editors] == [("Adam", "Margaret P", "MP")]
    assert [x.last for x in book.authors] == ["Roe"]
    assert book.bookaccession == "NBK1116"


def test_sources_gz_and_binary_file(tmp_path: Path) -> None:
    raw = RESULT2.read_bytes()
    gz = tmp_path / "export.nbib.gz"
    gz.write_bytes(gzip.compress(raw))
    plain = [a.to_dict() for a in iter_medline(RESULT2)]
    assert [a.to_dict() for a in iter_medline(gz)] == plain
    assert [a.to_dict() for a in iter_medline(io.BytesIO(raw))] == plain
    with open(RESULT2, encoding="utf-8") as fh:
        assert [a.to_dict() for a in iter_medline(fh)] == plain
    # a BOM and Windows line ends, as a downloaded .nbib may have
    crlf = tmp_path / "citations.nbib"
    crlf.write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    assert [a.to_dict() for a in iter_medline(crlf)] == plain


def test_record_without_pmid_raises() -> None:
    with pytest.raises(PubMedParseError, match="without a PMID at line 1"):
        list(iter_medline(io.StringIO("TI  - No id here.\nAU  - Someone X\n")))


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(PubMedParseError, match="cannot read"):
        list(iter_medline(tmp_path / "missing.nbib"))


_NBIB_BOTH_IDS = """PMID- 36100000
TI  - Altitude and ketamine.
LID - S1080-6032(22)00139-9 [pii]
LID - 10.1016/j.wem.2022.07.008 [doi]
AU  - Smith J
AU  - Jones K
AU  - et al.
SI  - ClinicalTrials.gov/NCT01234567
DP  - 2022 Sep
"""


def test_lid_lines_are_read_by_their_type_and_et_al_is_no_author(tmp_path: Path) -> None:
    path = tmp_path / "one.nbib"
    path.write_text(_NBIB_BOTH_IDS, encoding="utf-8")
    (art,) = [a for a in iter_medline(path) if isinstance(a, Article)]
    assert art.doi == "10.1016/j.wem.2022.07.008"
    assert art.pages == "S1080-6032(22)00139-9"  # the pii stands in for the page, as Zotero does
    assert art.author_names == ["Smith J", "Jones K"]
    assert art.secondary_ids == ["ClinicalTrials.gov/NCT01234567"]


def test_every_is_line_kept_with_its_type_pii_rn_and_pl() -> None:
    [a] = list(iter_medline(EFETCH2))
    assert (a.issn_print, a.issn_electronic, a.issn_linking) == (None, "1367-4811", "1367-4803")
    assert a.pii == "btp163"
    assert a.country == "England"
    assert len(a.chemical_numbers) == len(a.chemicals)


def test_old_stored_json_without_the_new_fields_still_loads() -> None:
    a = Article.from_dict({"pmid": "1", "title": "T"})
    assert (a.issn_print, a.pii, a.country, a.chemical_numbers) == (None, None, None, [])


def test_history_status_subsets_journal_id_and_completion_date() -> None:
    [a] = list(iter_medline(RESULT4))
    assert a.history == [("medline", "2023-05-17 13:10"), ("pubmed", "2023-05-17 13:10"),
                         ("entrez", "2023-05-17 11:53")]
    assert a.publication_status == "aheadofprint"
    assert a.citation_subsets == ["IM"] and a.nlm_unique_id == "9201390"
    [b] = list(iter_medline(EFETCH2))
    assert b.completed_date == "2009-07-09"
    assert b.grants == [Grant(grant_id="R00 LM009837", acronym="LM", agency="NLM NIH HHS",
                              country="United States")]
    # PHST first, then the EDAT/MHDA/CRDT of a record older than PHST for those statuses
    assert b.history == [("aheadofprint", "2009-03-20"), ("medline", "2009-07-10 09:00"),
                         ("pubmed", "2009-03-24 09:00"), ("entrez", "2009-03-24 09:00")]


_NBIB_WRAPPED = """PMID- 36100001
TI  - A title long enough to wrap onto a second line exactly as PubMed writes its own~
      lines.
CN  - Task and Finish Group for Urinalysis (TFG-U), European Federation of Clinical~
      Chemistry and Laboratory Medicine (EFLM)
MH  - High-Intensity Focused Ultrasound Ablation/adverse~
      effects/instrumentation/*methods
OT  - a keyword phrase so long that PubMed had to wrap it over two lines of its nbib~
      file
GR  - BB/P009042/1/BB_/Biotechnology and Biological Sciences Research Council/United~
      Kingdom
GR  - Wellcome Trust/United Kingdom
GR  - 12345/Wellcome Trust/United Kingdom
COIS- The authors declare that the research was conducted in the absence of any~
      commercial or financial relationships.
CI  - (c) 2023 The Authors.
DP  - 2023
""".replace("~\n", " \n")  # PubMed ends each wrapped line with a space


def test_every_wrapped_field_is_joined_whatever_its_tag(tmp_path: Path) -> None:
    """PubMed wraps any long field; Bio.Medline would split a wrapped CN, OT or GR in two."""
    path = tmp_path / "wrapped.nbib"
    path.write_text(_NBIB_WRAPPED, encoding="utf-8")
    [a] = list(iter_medline(path))
    assert a.title.endswith("its own lines.")
    assert [x.collective for x in a.authors] == [
        "Task and Finish Group for Urinalysis (TFG-U), European Federation of Clinical "
        "Chemistry and Laboratory Medicine (EFLM)"]
    assert a.mesh[0].descriptor == "High-Intensity Focused Ultrasound Ablation"
    assert a.mesh[0].qualifiers == (("adverse effects", False), ("instrumentation", False),
                                    ("methods", True))
    assert a.keywords == ["a keyword phrase so long that PubMed had to wrap it over two lines "
                          "of its nbib file"]
    assert a.grants == [
        Grant(grant_id="BB/P009042/1", acronym="BB_",
              agency="Biotechnology and Biological Sciences Research Council",
              country="United Kingdom"),
        Grant(agency="Wellcome Trust", country="United Kingdom"),
        Grant(grant_id="12345", agency="Wellcome Trust", country="United Kingdom")]
    assert a.coi_statement.endswith("commercial or financial relationships.")
    assert a.copyright == "(c) 2023 The Authors."
