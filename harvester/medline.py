"""MEDLINE tagged text (efetch ``rettype=medline``, PubMed's "Citation manager" ``.nbib``) -> Article.

Each record is read as its fields in order: a line ``TAG - value`` (tag left-justified in four
columns) starts a field and every line indented six spaces continues it, joined with one space.
PubMed wraps *any* long field that way (a long MeSH heading, keyword, group name or chemical
included) and ends wrapped lines with a space; Bio.Medline joins continuations only for its own
list of text tags and reads the continuation of any other tag as a second value, so it would cut
such a field in two. The order also tells which ``AD`` (affiliation) and ``AUID`` (ORCID) line
belongs to which author, and where a group author (``CN``) stands in the author list.

The result matches what :mod:`harvester.parse` makes of the same record in XML wherever MEDLINE
carries the information: abstract sections are recovered from the inline ``LABEL:`` headings
PubMed writes into ``AB``; dates become ISO; the MeSH ``*`` marks become major-topic flags.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from harvester.parse import PubMedParseError, normalize_orcid
from index.article import Article, Author, Grant, MeshHeading

_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_ISSN_RE = re.compile(r"(\d{4}-\d{3}[\dXx])\s*(?:\(([^)]*)\))?")
_ET_AL = re.compile(r"^et\.?\s*al\.?$", re.I)
_ID_RE = re.compile(r"\s*(\S(?:[^\[]*\S)?)\s*\[([^\]\s]+)\]")
_PMID_IN_REF = re.compile(r"PMID:\s*(\d+)")
# PubMed writes structured-abstract headings into AB as upper-case "LABEL: " at sentence starts.
_SECTION_RE = re.compile(r"(?:(?<=^)|(?<=[.?!)\]]\s))([A-Z][A-Z0-9 ,&/()'-]{1,60}[A-Z)]):\s")
_AUTHOR_TAGS = frozenset({"FAU", "AU", "CN", "AD", "AUID", "FED", "ED"})
_ACRONYM = re.compile(r"[A-Za-z]{1,6}_?")  # "MH", "MRC_", "ImNIH"
_PHST_RE = re.compile(r"(\d{4}/\d{2}/\d{2})(?: (\d{2}:\d{2}))?\s*\[([^\]]+)\]")

MedlineSource = str | os.PathLike[str] | IO[str]


def iter_medline(source: MedlineSource) -> Iterator[Article]:
    """Every record of a MEDLINE/.nbib text, one Article each, streaming record by record.

    ``source`` is a path (``.gz`` decompressed) or a text file object. A record without a PMID
    raises :class:`harvester.parse.PubMedParseError` naming its line.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            opener = gzip.open if path.suffix == ".gz" else open
            raw = opener(path, "rt", encoding="utf-8-sig", errors="replace")  # noqa: SIM115
        except OSError as exc:
            raise PubMedParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with raw:
            yield from _iterate(raw, str(path))
    elif hasattr(source, "read"):
        if isinstance(source, io.BufferedIOBase | io.RawIOBase):
            source = io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace")
        yield from _iterate(source, str(getattr(source, "name", "stream")))
    else:
        raise TypeError(f"iter_medline takes a path or a text file, not {type(source).__name__}")


def _iterate(lines: Iterable[str], name: str) -> Iterator[Article]:
    for start_line, record_lines in _records(lines):
        fields = _fields(record_lines)
        if not fields:
            continue
        rec: dict[str, list[str]] = {}
        for tag, value in fields:
            rec.setdefault(tag, []).append(value)
        if not (rec.get("PMID") or [""])[0]:
            raise PubMedParseError(f"{name}: MEDLINE record without a PMID at line {start_line}")
        yield _article(rec, fields)


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    """(tag, value) of every field in order, continuation lines joined with one space."""
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith("      "):
            if fields and (more := line.strip()):
                tag, value = fields[-1]
                fields[-1] = (tag, f"{value} {more}" if value else more)
            continue
        if len(line) < 5 or line[4] != "-":
            continue  # not a field line (stray text between records)
        tag = line[:4].rstrip()
        if tag:
            fields.append((tag, line[6:].strip()))
    return fields


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Lines of each record. Records end at a blank line, or where a new "PMID-" line starts
    (some exports run records together)."""
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        line = line.lstrip("\ufeff")
        if not line.strip():
            if current:
                yield start, current + ["\n"]
                current = []
            continue
        if line.startswith("PMID-") and current:
            yield start, current + ["\n"]
            current = []
        if not current:
            start = number
        current.append(line if line.endswith("\n") else line + "\n")
    if current:
        yield start, current + ["\n"]


# -- one record -----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(value)
    value = " ".join(str(value).split())
    return value or None


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [t for t in (" ".join(str(v).split()) for v in items) if t]


def _tagged_ids(values: list[str]) -> dict[str, str]:
    """["10.1/x [doi]", "S0-1 [pii]"] -> {"doi": "10.1/x", "pii": "S0-1"} (first of each).

    Bio.Medline keeps one value per LID (it joins repeated LID lines with a space), so one
    value may hold several ids, "S1080-6032(22)00139-9 [pii] 10.1016/j.wem.2022.07.008 [doi]":
    each id is the text before its own [type]."""
    out: dict[str, str] = {}
    for v in values:
        for ident, kind in _ID_RE.findall(v):
            out.setdefault(kind.strip().lower(), ident.strip())
    return out


def _iso(value: str | None) -> str | None:
    """"20230517" or "2023/05/17 13:10" -> "2023-05-17"."""
    if not value:
        return None
    digits = re.sub(r"\D", "", value.split(" ")[0])
    if len(digits) >= 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    if len(digits) == 6:
        return f"{digits[:4]}-{digits[4:6]}"
    if len(digits) == 4:
        return digits
    return None


def _sections(abstract: str | None) -> list[tuple[str | None, str]]:
    if not abstract:
        return []
    marks = list(_SECTION_RE.finditer(abstract))
    if not marks or marks[0].start() != 0:
        # no heading, or text before the first one: an unstructured abstract that happens to
        # contain an upper-case word and a colon
        return [(None, abstract)]
    sections: list[tuple[str | None, str]] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(abstract)
        text = abstract[m.end():end].strip()
        if text:
            sections.append((m.group(1).strip(), text))
    return sections


def _mesh(values: list[str]) -> list[MeshHeading]:
    out: list[MeshHeading] = []
    for v in values:
        parts = [p.strip() for p in v.split("/")]
        descriptor = parts[0]
        major = descriptor.startswith("*")
        quals = tuple((q.lstrip("*"), q.startswith("*")) for q in parts[1:] if q.lstrip("*"))
        if descriptor.lstrip("*"):
            out.append(MeshHeading(descriptor=descriptor.lstrip("*"), major=major,
                                   qualifiers=quals))
    return out


def _chemical(value: str) -> str:
    """RN "0 (Cytochrome c Group)" / "EC 1.1.1.1 (Alcohol Dehydrogenase)" -> the name."""
    at = value.find(" (")
    if at >= 0 and value.endswith(")"):
        return value[at + 2:-1].strip()
    return value.strip()


def _chemical_number(value: str) -> str:
    """RN "50-28-2 (Estradiol)" -> "50-28-2"; a value without a name keeps "0"."""
    at = value.find(" (")
    if at >= 0 and value.endswith(")"):
        return value[:at].strip() or "0"
    return "0"


def _ref_pmids(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        for pmid in _PMID_IN_REF.findall(v):
            if pmid not in out:
                out.append(pmid)
    return out


def _people(fields: list[tuple[str, str]]) -> tuple[list[Author], list[Author]]:
    """(authors, editors) in the order the record lists them, each with its own AD/AUID lines."""
    authors: list[dict[str, Any]] = []
    editors: list[dict[str, Any]] = []
    orphan_affiliations: list[str] = []
    current: dict[str, Any] | None = None
    for tag, value in fields:
        if tag not in _AUTHOR_TAGS or not value:
            continue
        if tag in ("AU", "FAU", "ED", "FED") and _ET_AL.match(value):
            # "AU  - et al." marks a list PubMed cut short: no author of that name.
            current = None
            continue
        if tag in ("FAU", "FED"):
            target = authors if tag == "FAU" else editors
            last, _, fore = value.partition(",")
            current = {"last": last.strip() or None, "fore": fore.strip() or None,
                       "initials": None, "collective": None, "aff": [], "orcid": None,
                       "short": False}
            target.append(current)
        elif tag in ("AU", "ED"):
            target = authors if tag == "AU" else editors
            if current is not None and any(p is current for p in target) and not current["short"]:
                current["short"] = True
                last = current["last"] or ""
                if value.startswith(last):
                    current["initials"] = value[len(last):].strip() or None
            else:  # an old record with only the short form
                last, _, initials = value.rpartition(" ")
                current = {"last": last or value, "fore": None,
                           "initials": initials if last else None, "collective": None,
                           "aff": [], "orcid": None, "short": True}
                target.append(current)
        elif tag == "CN":
            current = {"last": None, "fore": None, "initials": None, "collective": value,
                       "aff": [], "orcid": None, "short": True}
            authors.append(current)
        elif tag == "AD":
            if current is None:
                orphan_affiliations.append(value)  # pre-2014 records: one AD before any author
            else:
                current["aff"].append(value)
        elif tag == "AUID" and current is not None and value.upper().startswith("ORCID"):
            current["orcid"] = current["orcid"] or normalize_orcid(value)
    if orphan_affiliations and authors and not authors[0]["aff"]:
        authors[0]["aff"] = orphan_affiliations

    def build(people: list[dict[str, Any]]) -> list[Author]:
        return [Author(last=p["last"], fore=p["fore"], initials=p["initials"],
                       collective=p["collective"], affiliations=tuple(p["aff"]),
                       orcid=p["orcid"]) for p in people]

    return build(authors), build(editors)


def _grant(value: str) -> Grant:
    """GR "P30 DA040500/DA/NIDA NIH HHS/United States" -> Grant. PubMed joins GrantID, Acronym,
    Agency and Country with "/" and leaves out the missing ones; a GrantID may hold slashes
    itself ("MR/N013166/1/MRC_/Medical Research Council/United Kingdom"), so the parts are
    taken from the right, and an acronym is recognised by its form (capitals, maybe "_")."""
    parts = [p.strip() for p in value.split("/")]
    country = parts.pop() if len(parts) >= 2 else None
    agency = parts.pop() if parts else None
    acronym = parts.pop() if parts and _ACRONYM.fullmatch(parts[-1]) else None
    return Grant(grant_id="/".join(parts) or None, acronym=acronym, agency=agency or None,
                 country=country or None)


def _phst(value: str) -> tuple[str, str] | None:
    """PHST "2023/05/17 13:10 [medline]" -> ("medline", "2023-05-17 13:10")."""
    m = _PHST_RE.fullmatch(value.strip())
    if not m:
        return None
    day = m.group(1).replace("/", "-")
    return m.group(3), f"{day} {m.group(2)}" if m.group(2) else day


def _history(rec: dict[str, list[str]]) -> list[tuple[str, str]]:
    """PHST lines; records older than PHST give EDAT/MHDA/CRDT, kept as PubMed's statuses."""
    out = [h for v in rec.get("PHST", []) if (h := _phst(v))]
    have = {status for status, _ in out}
    for tag, status in (("MHDA", "medline"), ("EDAT", "pubmed"), ("CRDT", "entrez")):
        value = _text(rec.get(tag))
        if value and status not in have and (h := _phst(f"{value} [{status}]")):
            out.append(h)
    return out


def _article(rec: dict[str, list[str]], fields: list[tuple[str, str]]) -> Article:
    pmid = rec["PMID"][0].strip()
    authors, editors = _people(fields)
    lid = _tagged_ids(_list(rec.get("LID")))
    aid = _tagged_ids(_list(rec.get("AID")))
    issns = _ISSN_RE.findall(" ".join(_list(rec.get("IS"))))
    typed_issn: dict[str, str] = {}
    for n, kind in issns:
        typed_issn.setdefault((kind or "print").lower(), n)
    issn = next((n for n, kind in issns if kind.lower() != "linking"), None) or \
        (issns[0][0] if issns else None)
    dp = _text(rec.get("DP"))
    year = _YEAR_RE.search(dp) if dp else None
    abstract_text = _text(rec.get("AB"))
    sections = _sections(abstract_text)
    pub_types = _list(rec.get("PT"))
    retraction_pmids = _ref_pmids(_list(rec.get("RIN")))
    book_title = _text(rec.get("BTI"))
    is_book = bool(book_title or rec.get("ISBN"))
    title = _text(rec.get("TI")) or _text(rec.get("TT")) or book_title
    other = _list(rec.get("OAB"))
    other_langs = _list(rec.get("OABL"))
    pages = _text(rec.get("PG")) or lid.get("pii")

    return Article(
        pmid=pmid,
        title=title,
        abstract="\n".join(f"{lab}: {t}" if lab else t for lab, t in sections) or None,
        abstract_sections=sections,
        authors=authors,
        journal=None if is_book else _text(rec.get("JT")),
        journal_iso=None if is_book else _text(rec.get("TA")),
        issn=issn,
        volume=_text(rec.get("VI")),
        issue=_text(rec.get("IP")),
        pages=pages,
        pub_year=int(year.group(1)) if year else None,
        pub_date=dp,
        epub_date=_iso(_text(rec.get("DEP"))),
        doi=lid.get("doi") or aid.get("doi"),
        pmcid=_text(rec.get("PMC")),
        languages=_list(rec.get("LA")),
        publication_types=pub_types,
        mesh=_mesh(_list(rec.get("MH"))),
        keywords=list(dict.fromkeys(_list(rec.get("OT")))),
        chemicals=[_chemical(v) for v in _list(rec.get("RN"))],
        chemical_numbers=[_chemical_number(v) for v in _list(rec.get("RN"))],
        issn_print=typed_issn.get("print"),
        issn_electronic=typed_issn.get("electronic"),
        issn_linking=typed_issn.get("linking"),
        pii=lid.get("pii") or aid.get("pii"),
        country=None if is_book else _text(rec.get("PL")),
        retracted="Retracted Publication" in pub_types or bool(retraction_pmids),
        retraction_pmids=retraction_pmids,
        concern_pmids=_ref_pmids(_list(rec.get("ECI"))),
        erratum_pmids=_ref_pmids(_list(rec.get("EIN"))),
        entrez_date=_iso(_text(rec.get("EDAT"))) or _iso(_text(rec.get("CRDT")))
        or _iso(_text(rec.get("DA"))),
        revised_date=_iso(_text(rec.get("LR"))),
        status=_text(rec.get("STAT")),
        vernacular_title=_text(rec.get("TT")),
        secondary_ids=list(dict.fromkeys(_list(rec.get("SI")))),
        other_abstracts=[(other_langs[i] if i < len(other_langs) else None, t)
                         for i, t in enumerate(other)],
        record_type="book" if is_book else "article",
        book_title=book_title,
        publisher=_text(rec.get("PB")) if is_book else None,
        publisher_location=_text(rec.get("PL")) if is_book else None,
        isbn=_list(rec.get("ISBN"))[0] if rec.get("ISBN") else None,
        editors=editors,
        bookaccession=aid.get("bookaccession") or lid.get("bookaccession"),
        grants=list(dict.fromkeys(_grant(v) for v in _list(rec.get("GR")))),
        coi_statement=_text(rec.get("COIS")),
        copyright=_text(rec.get("CI")),
        history=_history(rec),
        publication_status=_text(rec.get("PST")),
        citation_subsets=_list(rec.get("SB")),
        nlm_unique_id=None if is_book else _text(rec.get("JID")),
        completed_date=_iso(_text(rec.get("DCOM"))),
    )
