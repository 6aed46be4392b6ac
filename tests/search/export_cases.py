"""Records for the export tests: the shared PubMed XML parsed by harvester.parse, the hard cases
of issue 5 derived from them, and Zotero's expected imports paired with their records."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from harvester.medline import iter_medline
from harvester.parse import iter_pubmed, parse_articles
from index.article import Article, Author
from search.export import write_export
from tests.helpers import EFETCH_XML, PUBMED_DATA

ZOTERO_XML_CASES = EFETCH_XML / "zotero-translators" / "PubMed_XML.js"
ZOTERO_WEB_CASES = (PUBMED_DATA / "exporter-reference" / "zotero-translators" / "PubMed.js"
                    / "web-testcases.expected-items.json")


@cache
def shared_articles() -> tuple[Article, ...]:
    """Every PMID of the shared efetch XML once (first file wins), in file order."""
    seen: dict[str, Article] = {}
    for path in sorted(EFETCH_XML.rglob("*.xml")):
        for rec in iter_pubmed(path):
            if isinstance(rec, Article):
                seen.setdefault(rec.pmid, rec)
    return tuple(seen.values())


def by_pmid(pmid: str) -> Article:
    for a in shared_articles():
        if a.pmid == pmid:
            return dataclasses.replace(a)
    raise KeyError(pmid)


LONG_ABSTRACT = "\n".join(
    f"{label}: " + " ".join(f"Sentence {i} of the {label.lower()} section reports ketamine "
                            f"infusion outcomes at {i * 3} mg/kg." for i in range(1, 80))
    for label in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"))


@cache
def hard_cases() -> tuple[Article, ...]:
    """One record per hard case of issue 5 point 3 (derived from real records where possible)."""
    # Coar & Sewell 2010, MedlineDate "2010 Sep-Oct". Its XML has no ISOAbbreviation, only
    # MedlineTA, which the Article does not keep: give it the abbreviation PubMed cites.
    base = dataclasses.replace(by_pmid("20729678"), journal_iso="Nurse Educ")
    cases = [
        dataclasses.replace(  # retracted, with its notice
            base, pmid="90000001", retracted=True, retraction_pmids=["90000099"],
            publication_types=[*base.publication_types, "Retracted Publication"]),
        dataclasses.replace(  # retracted, notice unknown
            base, pmid="90000002", retracted=True, retraction_pmids=[]),
        dataclasses.replace(  # particles, accents, apostrophes, group authors, surname only
            base, pmid="90000003", authors=[
                Author(last="van der Berg", fore="Anna", initials="A"),
                Author(last="D'Angelo", fore="Maria Grazia", initials="MG"),
                Author(last="Müller", fore="Jürgen", initials="J"),
                Author(last="de la Cruz", fore="José", initials="J"),
                Author(last="Øster-Ødegård", fore="Ægir", initials="Æ"),
                Author(last="Pulido Guevara", fore=None, initials=None),
                Author(collective="ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc."),
                Author(last="Smith", fore="J", initials="J"),
            ]),
        dataclasses.replace(base, pmid="90000004", pub_date="2010 Dec-2011 Jan", pub_year=2010),
        dataclasses.replace(base, pmid="90000005", pub_date="1998 Winter-Spring", pub_year=1998),
        dataclasses.replace(base, pmid="90000006", pub_date="2018 Jul-Oct", pub_year=2018),
        dataclasses.replace(base, pmid="90000007", pub_date="2002 Spring", pub_year=2002),
        dataclasses.replace(  # no volume, issue or pages (ahead of print)
            base, pmid="90000008", volume=None, issue=None, pages=None, pub_date="2023 May 17",
            pub_year=2023),
        dataclasses.replace(  # markup and math made plain text by the parser, and TeX specials
            base, pmid="90000009",
            title=("Effects of 10-3 M Mg2+ & Ca2+ on NMDA {GluN2B} currents: 50% of $x_i$ "
                   "at <5 ms, ~2 ^ #1 \\ COVID-19 PTSD mRNA in Parkinson's disease."),
            abstract="x < y and y > z & 100% ${a}$ #tag ~ ^ \\ done."),
        dataclasses.replace(  # non-English: bracketed translated title + vernacular
            base, pmid="90000010", title="[Ketamine in treatment-resistant depression].",
            vernacular_title="Ketamin bei therapieresistenter Depression.",
            languages=["ger"]),
        dataclasses.replace(  # very long structured abstract with tag-like text inside
            base, pmid="90000011",
            abstract=LONG_ABSTRACT + "\nOR  - this line looks like a RIS tag\nER  - so does this"),
        dataclasses.replace(  # no title at all but a vernacular one (as PubMed 29292925)
            base, pmid="90000012", title=None, vernacular_title="Psykisk ohälsa och terrorism."),
        dataclasses.replace(  # formula-looking title and author (CSV injection)
            base, pmid="90000013", title="=HYPERLINK(\"http://x\",\"click\")",
            authors=[Author(last="+Plus", fore="Minus", initials="M"),
                     Author(last="@Home", fore="A", initials="A")]),
        dataclasses.replace(  # many authors (et al.), abbreviated page range
            base, pmid="90000014", pages="1234-45",
            authors=[Author(last=f"Author{n}", fore="Alex", initials="A") for n in range(1, 10)]),
    ]
    return tuple(cases)


def book_articles() -> tuple[Article, Article]:
    """(a whole book, a book chapter) from the shared XML."""
    return by_pmid("20821847"), by_pmid("20301577")


def all_cases() -> list[Article]:
    return [*shared_articles(), *hard_cases()]


def export(articles: Any, fmt: str) -> str:
    out = io.StringIO(newline="")
    n = write_export(list(articles), fmt, out)
    assert n == len(list(articles))
    return out.getvalue()


def ws(text: str | None) -> str:
    return " ".join((text or "").split())


# -- Zotero's expected imports --------------------------------------------------------------------

def zotero_pairs() -> list[tuple[str, Article, dict[str, Any]]]:
    """(case name, our Article, Zotero's expected item) for every expected item whose record is
    in the shared XML: the PubMed_XML.js test cases (records in the same order as the items) and
    the PubMed.js web cases that name a PMID we have."""
    pairs: list[tuple[str, Article, dict[str, Any]]] = []
    for inp in sorted(ZOTERO_XML_CASES.glob("testcase*.input.xml")):
        expected = json.loads(Path(str(inp).replace(".input.xml", ".expected-items.json"))
                              .read_text(encoding="utf-8"))
        records = [r for r in iter_pubmed(inp) if isinstance(r, Article)]
        assert len(records) == len(expected), inp
        for art, item in zip(records, expected, strict=True):
            pairs.append((f"{inp.name}:{art.pmid}", art, item))
    have = {a.pmid: a for a in shared_articles()}
    for case in json.loads(ZOTERO_WEB_CASES.read_text(encoding="utf-8")):
        items = case.get("items")
        if not isinstance(items, list):
            continue
        for item in items:
            m = re.search(r"PMID: (\d+)", item.get("extra") or "")
            pmid = m.group(1) if m else item.get("PMID")
            if pmid in have:
                pairs.append((f"web:{case['url']}", have[pmid], item))
    return pairs


def zotero_date(text: str) -> tuple[int | None, int | None, int | None]:
    """Zotero's date strings ("2008-02", "2019-02-04", "2010 Sep-Oct", "2001") as parts."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if m:
        return (int(m[1]), int(m[2]) if m[2] else None, int(m[3]) if m[3] else None)
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    y = re.search(r"\d{4}", text)
    mo = re.search(r"[A-Za-z]{3}", text)
    month = months.index(mo[0].lower()) + 1 if mo and mo[0].lower() in months else None
    return (int(y[0]) if y else None, month, None)


def name_key(last: str | None, first: str | None) -> tuple[str, ...]:
    """Names compared as Zotero normalises them ("Peter O" == "Peter O.")."""
    return tuple(" ".join(p.replace(".", " ").split()).casefold() for p in (last, first) if p)


def zotero_creators(item: dict[str, Any]) -> list[tuple[str, ...]]:
    return [name_key(c.get("lastName"), c.get("firstName")) for c in item["creators"]
            if c["creatorType"] == "author"]


# -- every shared record, and the same records after `ketlit ingest` -------------------------------

CASSETTES = PUBMED_DATA / "eutils-responses" / "biocommons-eutils" / "tests" / "data" / "cassettes"
NBIB_FILES = tuple(sorted((PUBMED_DATA / "medline-nbib").rglob("*.txt")))


def cassette_articles() -> list[Article]:
    """The 6 PubMed records inside the biocommons VCR cassettes' efetch answers (MANIFEST)."""
    import yaml

    out: list[Article] = []
    for path in sorted(CASSETTES.iterdir()):
        for exchange in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
            request, body = exchange["request"], exchange["response"]["body"]["string"]
            if request["uri"].endswith("efetch.fcgi") and "PubmedArticle" in body:
                out += parse_articles(body.encode("utf-8"))
    return out


@cache
def every_shared_record() -> tuple[Article, ...]:
    """Every record element of ../shared/data/pubmed, repeats included (the 2008 and 2025
    fetches of the same PMIDs differ): all efetch XML files, the cassettes, every MEDLINE file."""
    out: list[Article] = []
    for path in sorted(EFETCH_XML.rglob("*.xml")):
        out += [r for r in iter_pubmed(path) if isinstance(r, Article)]
    out += cassette_articles()
    for path in NBIB_FILES:
        out += [r for r in iter_medline(path) if isinstance(r, Article)]
    return tuple(out)


@cache
def _ingested(directory: str, fmts: tuple[str, ...]) -> dict[str, str]:
    from harvester.ingest import ingest_files
    from index.settings import load_settings
    from search.export.selection import export_selection
    from tests.helpers import write_config

    root = Path(directory) / "ingested"
    root.mkdir(exist_ok=True)
    settings = load_settings(write_config(root))
    ingest_files(settings, [*sorted(EFETCH_XML.rglob("*.xml")), *NBIB_FILES])
    out = {}
    for fmt in fmts:
        path = root / f"all.{fmt}"
        export_selection(settings, fmt=fmt, output=path)
        out[fmt] = path.read_text(encoding="utf-8-sig")
    return out


ALL_FORMATS = ("ris", "bibtex", "biblatex", "medline", "csl-json", "csv", "text")


def ingested_exports(tmp_path_factory: Any) -> dict[str, str]:
    """{format: text} of what a user gets: every shared XML and .nbib file through `ketlit
    ingest` (ingest_files), then `ketlit export --format F -o FILE` (export_selection) for every
    format. Done once a test session (keyed by pytest's base temporary directory)."""
    return _ingested(str(tmp_path_factory.getbasetemp()), ALL_FORMATS)
