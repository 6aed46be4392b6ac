"""Exports of ingested records against Zotero's own import of the same records (issue 13 point 6).

Every Zotero expected item of ../shared/data/pubmed whose record we have (the PubMed_XML.js test
cases and the PubMed.js web cases naming a PMID in them) is ingested the way a user would
(``ingest_files`` on the very XML Zotero's developers pasted), exported through ``ketlit
export``'s code path (``export_selection``) as RIS and CSL-JSON, read back by readers nobody here
wrote (rispy; citation-js for both formats), and compared with Zotero's item on the fields a
reference manager's user checks first: DOI, number of authors, pages and ISSN.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import rispy

from harvester.ingest import ingest_files
from index.settings import load_settings
from search.export.selection import export_selection
from tests.helpers import write_config
from tests.search.export_cases import ZOTERO_WEB_CASES, ZOTERO_XML_CASES
from tests.search.outside_readers import citation_js, needs_citation_js


def _zotero_items() -> list[tuple[str, dict[str, Any]]]:
    """(PMID, Zotero's item) for every expected item that names a PMID."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(ZOTERO_XML_CASES.glob("testcase*.expected-items.json")):
        out += [(_pmid(item), item) for item in json.loads(path.read_text(encoding="utf-8"))]
    for case in json.loads(ZOTERO_WEB_CASES.read_text(encoding="utf-8")):
        items = case.get("items")
        out += [(_pmid(item), item) for item in items] if isinstance(items, list) else []
    return [(p, item) for p, item in out if p]


def _pmid(item: dict[str, Any]) -> str | None:
    m = re.search(r"PMID: (\d+)", item.get("extra") or "")
    return m.group(1) if m else item.get("PMID")


@cache
def _exports(directory: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{"ris": {pmid: rispy record}, "csl": {pmid: CSL item}} after ingest + export."""
    root = Path(directory)
    settings = load_settings(write_config(root))
    ingest_files(settings, sorted(ZOTERO_XML_CASES.glob("testcase*.input.xml")))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for fmt in ("ris", "csl-json"):
        path = root / f"all.{fmt}"
        export_selection(settings, fmt=fmt, output=path)
        text = path.read_text(encoding="utf-8")
        if fmt == "ris":
            out["ris_text"] = {"": {"text": text}}
            out["ris"] = {r["accession_number"]: r for r in rispy.loads(text)}
        else:
            out["csl_text"] = {"": {"text": text}}
            out["csl"] = {str(i["PMID"]): i for i in json.loads(text)}
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    return _exports(str(tmp_path_factory.mktemp("zotero")))


ITEMS = _zotero_items()
_IN_XML = {p for path in ZOTERO_XML_CASES.glob("testcase*.input.xml")
           for p in re.findall(r"<PMID[^>]*>(\d+)</PMID>", path.read_text(encoding="utf-8"))}
HAVE = [(p, item) for p, item in ITEMS if p in _IN_XML]


def _authors(item: dict[str, Any]) -> int:
    return sum(1 for c in item.get("creators", []) if c["creatorType"] == "author")


def _isbn13(isbn: str | None) -> str | None:
    digits = re.sub(r"[^0-9Xx]", "", isbn or "")
    if len(digits) != 10:
        return digits or None
    core = "978" + digits[:9]
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(core)) % 10) % 10
    return core + str(check)


def _ris_pages(rec: dict[str, Any]) -> str | None:
    if not rec.get("start_page"):
        return None
    return rec["start_page"] + (f"-{rec['end_page']}" if rec.get("end_page") else "")


def test_every_reference_record_is_ingested_and_exported(exported) -> None:
    pmids = {p for p, _ in ITEMS}
    assert len(pmids) >= 14
    missing = pmids - set(exported["ris"])
    # the web cases also name PMIDs whose records the shared data lacks: they cannot be ingested
    assert missing <= {"21249754", "21249755", "21249758", "11109029", "20981092", "14779137",
                       "31221671", "32633716"}
    assert set(exported["ris"]) == set(exported["csl"])


@pytest.mark.parametrize("pmid,item", HAVE, ids=[f"{p}-{i['itemType']}" for p, i in HAVE])
def test_doi_authors_pages_and_issn_as_zotero_imports_them(exported, pmid, item) -> None:
    ris, csl = exported["ris"][pmid], exported["csl"][pmid]
    assert ris.get("doi") == item.get("DOI") and csl.get("DOI") == item.get("DOI")
    assert len(ris.get("authors", [])) == len(csl.get("author", [])) == _authors(item)
    if "pages" in item:  # (Zotero's preprint and book items have no pages field)
        assert _ris_pages(ris) == csl.get("page") == item["pages"]
    if "ISSN" in item:
        assert ris.get("issn") == csl.get("ISSN") == item["ISSN"]
    if "ISBN" in item:  # RIS SN carries a book's ISBN; Zotero gives 10 or 13 digits
        assert _isbn13(ris.get("issn")) == _isbn13(csl.get("ISBN")) == _isbn13(item["ISBN"])


@needs_citation_js
def test_citation_js_reads_the_same_values_from_ris_and_csl_json(exported) -> None:
    """citation-js (npm) as a second, independent reader of both files."""
    from_ris, _ = citation_js(exported["ris_text"][""]["text"], "ris")
    from_csl, bibliography = citation_js(exported["csl_text"][""]["text"], "csl")
    assert len(from_ris) == len(from_csl) == len(exported["csl"])
    by_doi_ris = {i.get("DOI"): i for i in from_ris if i.get("DOI")}
    checked = 0
    for pmid, item in HAVE:
        if pmid not in exported["csl"] or item["itemType"] != "journalArticle":
            continue
        (ours,) = [i for i in from_csl if str(i.get("PMID")) == pmid]
        assert ours.get("DOI") == item.get("DOI")
        assert len(ours.get("author", [])) == _authors(item)
        assert ours.get("page") == item.get("pages") and ours.get("ISSN") == item.get("ISSN")
        if item.get("DOI"):
            r = by_doi_ris[item["DOI"]]
            assert len(r.get("author", [])) == _authors(item)
            assert r.get("page") == item.get("pages") and r.get("ISSN") == item.get("ISSN")
        checked += 1
    assert checked >= 10
    assert "doi.org" in bibliography or "10." in bibliography


# -- .nbib records: Zotero's MEDLINE/nbib import rules, on PubMed's own files ----------------------

NBIB = sorted((ZOTERO_XML_CASES.parents[2] / "medline-nbib").rglob("*.txt"))


def _nbib_expectations(path: Path) -> dict[str, dict[str, Any]]:
    """What Zotero's MEDLINE/nbib translator takes from each record: DOI from ``AID ... [doi]``,
    pages from PG else ``LID ... [pii]``, ISSN from the IS lines (the first is the journal's),
    one author per FAU (AU when a record has no FAU). Continuation lines joined first."""
    out: dict[str, dict[str, Any]] = {}
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        fields: list[list[str]] = []
        for line in block.splitlines():
            if line.startswith("      ") and fields:
                fields[-1][1] += " " + line.strip()
            elif len(line) > 5 and line[4] == "-":
                fields.append([line[:4].strip(), line[6:].strip()])
        by_tag: dict[str, list[str]] = {}
        for tag, value in fields:
            by_tag.setdefault(tag, []).append(value)
        get = by_tag.get
        doi = next((v[:-6].strip() for v in get("AID", []) if v.endswith("[doi]")), None)
        pii = next((v[:-6].strip() for v in get("LID", []) if v.endswith("[pii]")), None)
        out[get("PMID")[0]] = {
            "DOI": doi, "pages": (get("PG") or [pii])[0],
            "ISSN": get("IS")[0].split()[0] if get("IS") else None,
            "authors": len(get("FAU", [])) or len(get("AU", [])), "groups": len(get("CN", []))}
    return out


def test_nbib_records_export_what_zoteros_medline_import_reads(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path))
    ingest_files(settings, NBIB)
    expected: dict[str, dict[str, Any]] = {}
    for path in NBIB:
        expected.update(_nbib_expectations(path))
    assert len(expected) == 8
    export_selection(settings, fmt="ris", output=tmp_path / "all.ris")
    export_selection(settings, fmt="csl-json", output=tmp_path / "all.json")
    ris = {r["accession_number"]: r for r in rispy.loads((tmp_path / "all.ris").read_text())}
    csl = {str(i["PMID"]): i for i in json.loads((tmp_path / "all.json").read_text())}
    for pmid, want in expected.items():
        r, c = ris[pmid], csl[pmid]
        assert r.get("doi") == c.get("DOI") == want["DOI"], pmid
        assert len(r["authors"]) == len(c["author"]) == want["authors"] + want["groups"], pmid
        # RIS splits the range; Zotero's nbib import expands PubMed's abbreviated end page
        assert (r.get("start_page"), c.get("page", "").split("-")[0]) == (
            want["pages"].split("-")[0],) * 2, pmid
        assert r.get("issn") == c.get("ISSN") == want["ISSN"], pmid
