"""MEDLINE (.nbib) export, read back with Bio.Medline and compared with PubMed's own layout."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from Bio import Medline

from harvester.medline import iter_medline
from tests.helpers import PUBMED_DATA
from tests.search.export_cases import all_cases, book_articles, by_pmid, export, hard_cases, ws

UNWRAPPED: set[str] = set()  # every tag wraps, as in PubMed's files
TAG_LINE = re.compile(r"^([A-Z]{2,4}) *- (.*)$")


def _medline(articles) -> list[dict]:
    return list(Medline.parse(io.StringIO(export(articles, "medline"))))


def test_bio_medline_reads_every_record_back():
    arts = all_cases()
    recs = _medline(arts)
    assert len(recs) == len(arts)
    for art, rec in zip(arts, recs, strict=True):
        assert rec["PMID"] == art.pmid
        title = art.book_title if art.is_book and art.title == art.book_title else art.title
        if title:
            assert rec["TI"] == ws(title)
        if art.abstract:
            assert rec["AB"] == ws(art.abstract)
        people = [a for a in art.authors if not a.collective]
        assert rec.get("FAU", []) == [f"{a.last}, {a.fore}" if a.fore else a.last
                                      for a in people]
        assert len(rec.get("AU", [])) == len(people)
        groups = [a.collective for a in art.authors if a.collective]
        if groups:
            cn = rec["CN"] if isinstance(rec["CN"], list) else [rec["CN"]]
            # a group name longer than a line wraps, as in PubMed's files, and Bio.Medline reads
            # its continuation as a second value (it joins only its text tags, AD and MH)
            assert " ".join(cn) == " ".join(groups)
        assert rec.get("LA", []) == art.languages
        assert set(art.publication_types) <= set(rec.get("PT", []))
        assert rec.get("DP") == (art.pub_date or (str(art.pub_year) if art.pub_year else None))
        assert rec.get("PG") == art.pages
        assert rec.get("VI") == art.volume
        assert rec.get("IP") == art.issue
        assert len(rec.get("MH", [])) == len(art.mesh)
        assert rec.get("OT", []) == art.keywords
        if art.doi:
            assert rec["LID"] == f"{art.doi} [doi]"
            assert f"{art.doi} [doi]" in rec["AID"]
        assert rec.get("PMC") == art.pmcid
        if not art.is_book:
            assert rec.get("JT") == art.journal
            abbr = (art.journal_iso or art.journal).replace(".", " ").split()[0]
            assert rec["SO"].startswith(abbr)


def test_layout_is_pubmeds():
    text = export(all_cases(), "medline")
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("      "):
            assert line[6] != " "
        else:
            m = TAG_LINE.match(line)
            assert m, line
            assert line[4:6] == "- " and line[:4] == m.group(1).ljust(4)
        # PubMed wraps at 87 columns (88 with the space a wrapped line keeps); only a single
        # overlong word, or a list-valued tag that readers would split if wrapped, may exceed it
        kept = line.rstrip(" ")
        assert len(kept) <= 87 or " " not in kept[6:] or line[:4].strip() in UNWRAPPED, line
        assert len(line) - len(kept) <= 1
    assert "\n\nPMID- " in text and text.startswith("PMID- ")


def test_long_values_wrap_at_word_boundaries_like_pubmed():
    art = next(a for a in hard_cases() if a.pmid == "90000011")
    text = export([art], "medline")
    ab_lines = []
    for line in text.splitlines():
        if line.startswith("AB  - ") or ab_lines and line.startswith("      "):
            ab_lines.append(line)
        elif ab_lines:
            break
    assert len(ab_lines) > 250
    for line, nxt in zip(ab_lines, ab_lines[1:], strict=False):
        # the next line's first word would not have fitted; the line keeps the space it broke at
        assert line.endswith(" ") and not line.endswith("  ")
        assert len(line.rstrip()) <= 87 < len(line.rstrip()) + 1 + len(nxt.split()[0])
    assert not ab_lines[-1].endswith(" ")


def test_mesh_notation_and_retraction():
    art = by_pmid("20729678")
    retracted = hard_cases()[0]
    text = export([art, retracted], "medline")
    recs = list(Medline.parse(io.StringIO(text)))
    mh = recs[0]["MH"]
    assert len(mh) == len(art.mesh)
    for m, line in zip(art.mesh, mh, strict=True):
        assert line.lstrip("*").split("/")[0] == m.descriptor
        assert line.startswith("*") == m.major
    assert "Retracted Publication" in recs[1]["PT"]
    assert recs[1]["RIN"] == ["PMID: 90000099"]


def test_books_have_book_tags():
    book, chapter = book_articles()
    rb, rc = _medline([book, chapter])
    assert rb["TI"] == "Endocrinology: An Integrated Approach"
    assert rb["PB"] == ["BIOS Scientific Publishers"] and rb["PL"] == "Oxford"
    assert rb["ISBN"] == ["1859962521"]
    assert "NBK22 [bookaccession]" in rb["AID"]
    assert rc["BTI"][0].startswith("GeneReviews")
    assert rc["TI"] == ws(chapter.title)
    assert len(rc.get("FED", [])) == len(chapter.editors) > 0


def _blocks(text: str) -> dict[str, list[str]]:
    """Field blocks (tag line + continuation lines, trailing spaces dropped) by tag."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        line = line.rstrip()
        m = TAG_LINE.match(line)
        if m:
            current = [line]
            out.setdefault(m.group(1), []).append(current)  # type: ignore[arg-type]
        elif line.startswith("      ") and current is not None:
            current.append(line)
    return {tag: ["\n".join(b) for b in blocks] for tag, blocks in out.items()}


NBIB = sorted((PUBMED_DATA / "medline-nbib").rglob("*.txt"))


@pytest.mark.parametrize("path", NBIB, ids=lambda p: p.name)
def test_same_lines_as_pubmeds_own_nbib(path: Path):
    """PubMed's file -> ketlit's MEDLINE reader -> Article -> this exporter: the fields ketlit
    keeps come out line for line as PubMed wrote them, wrapping included."""
    articles = list(a for a in iter_medline(path) if hasattr(a, "pmid"))
    ours = export(articles, "medline").split("\n\n")
    theirs = [r for r in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()) if r]
    assert len(ours) == len(theirs)
    for mine, pubmed in zip(ours, theirs, strict=True):
        a, b = _blocks(mine), _blocks(pubmed)
        for tag in ("PMID", "TI", "AB", "FAU", "AU", "LA", "PT", "DP", "PG", "VI", "IP", "JT",
                    "OT", "PMC", "RN", "PL", "MH", "GR", "TA", "JID", "SB", "PST", "EDAT",
                    "MHDA", "CRDT", "DCOM", "LR", "DEP", "STAT", "OWN", "CI", "COIS"):
            if tag in b:
                assert a.get(tag) == b[tag], (path.name, tag)
        # every IS line with its type (PubMed's order varies between print and electronic)
        assert sorted(a.get("IS", [])) == sorted(b.get("IS", [])), path.name


NBIB_2023 = PUBMED_DATA / "medline-nbib" / "biopython-2023" / "Tests" / "Medline" / "pubmed_result4.txt"


def test_a_current_pubmed_record_comes_out_byte_for_byte():
    """PubMed's 2023 .nbib (trailing space on every wrapped line) -> reader -> exporter: the same
    bytes, every tag and every line break included (the file lacks only its final newline)."""
    theirs = NBIB_2023.read_text(encoding="utf-8")
    ours = export(list(iter_medline(NBIB_2023)), "medline")
    assert ours == theirs + "\n"


@pytest.mark.parametrize("path", NBIB, ids=lambda p: p.name)
def test_history_grants_and_bookkeeping_tags_as_pubmed_writes_them(path: Path):
    """Every AD, AID, PHST, GR line of PubMed's own files comes back (older files: ignoring the
    trailing space a 2023 line keeps), and SO carries "Epub" as PubMed writes it."""
    ours = _blocks(export(list(iter_medline(path)), "medline"))
    theirs = _blocks(path.read_text(encoding="utf-8"))
    for tag in ("AD", "AID", "GR", "PHST"):
        assert set(theirs.get(tag, [])) <= set(ours.get(tag, [])), (path.name, tag)
    for so in theirs["SO"]:
        if "doi:" in so:  # older SO lines predate the DOI in SO
            assert so in ours["SO"]


def test_xml_records_carry_grants_coi_copyright_and_history():
    art = by_pmid("28775130")  # biopython pubmed5.xml
    rec = _medline([art])[0]
    assert rec["GR"] == ["Z01 CP010119/CP/NCI NIH HHS/United States",
                         "Z01 ES049030/ES/NIEHS NIH HHS/United States",
                         "Z99 CA999999/NULL/Intramural NIH HHS/United States"]
    assert rec["COIS"] == ["Competing interests: None declared."]
    assert ws(" ".join(rec["CI"])) == ws(art.copyright)
    assert art.copyright.startswith("© Article author(s)")
    assert rec["PHST"][:3] == ["2017/03/10 00:00 [received]", "2017/06/13 00:00 [revised]",
                               "2017/06/22 00:00 [accepted]"]
    assert "2017/08/05 06:00 [entrez]" in rec["PHST"]
    assert rec["EDAT"] == rec["MHDA"] == "2017/08/05 06:00" and rec["CRDT"] == ["2017/08/05 06:00"]
    assert rec["PST"] == "ppublish" and rec["JID"] == "9422759" and "SB" not in rec
    assert rec["SO"].endswith("doi: 10.1136/oemed-2017-104431. Epub 2017 Aug 3.")
