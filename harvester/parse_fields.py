"""Field readers of PubMed XML: one element (author list, MeSH list, dates, grants, ...) ->
plain values for the Article, plus the small element helpers every reader uses.

Split from parse.py (the document) and parse_record.py (the record builders): these functions
take an element (or None when the record lacks it) and never raise on odd content; parsing is a
hot path (bench/bench_parse.py), so they read children in one pass rather than a find() a field.
"""

from __future__ import annotations

import re

from lxml import etree

from harvester.markup import element_text
from index.article import Author, Grant, MeshHeading

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")


def _t(el: etree._Element | None) -> str | None:
    """Plain text of an element, whitespace normalized; None when absent or empty."""
    if el is None:
        return None
    if len(el):
        return element_text(el)
    text = el.text
    if text is None:
        return None
    return " ".join(text.split()) or None


def _children(el: etree._Element | None) -> dict[str, list[etree._Element]]:
    """Children grouped by tag: one pass instead of a find() per field (parsing is hot)."""
    out: dict[str, list[etree._Element]] = {}
    if el is not None:
        for c in el:
            out.setdefault(c.tag, []).append(c)
    return out


def _one(kids: dict[str, list[etree._Element]], tag: str) -> etree._Element | None:
    found = kids.get(tag)
    return found[0] if found else None


def _article_ids(id_list: etree._Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for aid in id_list.iterfind("ArticleId"):
        kind = aid.get("IdType")
        value = _t(aid)
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def _authors(author_list: etree._Element | None) -> list[Author]:
    if author_list is None:
        return []
    out: list[Author] = []
    for a in author_list:
        if a.tag != "Author" or a.get("ValidYN") == "N":  # ValidYN=N: a name kept as an error
            continue
        last = fore = initials = collective = orcid = legacy = None
        affiliations: list[str] = []
        for c in a:
            tag = c.tag
            if tag == "LastName":
                last = _t(c)
            elif tag == "ForeName" or tag == "FirstName":
                fore = fore or _t(c)
            elif tag == "Initials":
                initials = _t(c)
            elif tag == "AffiliationInfo":
                for af in c:
                    if af.tag == "Affiliation":
                        text = af.text
                        if len(af):
                            text = element_text(af)
                        elif text is not None:
                            text = " ".join(text.split())
                        if text:
                            affiliations.append(text)
            elif tag == "Identifier":
                if orcid is None and (c.get("Source") or "").upper() == "ORCID":
                    orcid = normalize_orcid(c.text)
            elif tag == "CollectiveName":
                collective = _t(c)
            elif tag == "Affiliation":  # 2013-2014 DTDs put it on the author directly
                legacy = _t(c)
        if not affiliations and legacy:
            affiliations.append(legacy)
        if collective:
            out.append(Author(collective=collective, affiliations=tuple(affiliations),
                              orcid=orcid))
        elif last or fore or initials:
            out.append(Author(last=last, fore=fore, initials=initials,
                              affiliations=tuple(affiliations), orcid=orcid))
    return out


def normalize_orcid(value: str | None) -> str | None:
    """``https://orcid.org/0000-0002-1825-009x`` / ``0000000218250097`` -> ``0000-0002-1825-009X``."""
    if not value:
        return None
    m = _ORCID_RE.search(value)
    if not m:
        return None
    return "-".join(m.groups()).upper()


def _abstract_sections(abstract: etree._Element | None) -> list[tuple[str | None, str]]:
    if abstract is None:
        return []
    sections: list[tuple[str | None, str]] = []
    for at in abstract.iterfind("AbstractText"):
        text = element_text(at)
        label = at.get("Label")
        label = " ".join(label.split()) if label and label.strip() else None
        if text:
            sections.append((label, text))
    return sections


def _join_sections(sections: list[tuple[str | None, str]]) -> str | None:
    """Sections as "LABEL: text" lines; every section kept, in order."""
    if not sections:
        return None
    return "\n".join(f"{label}: {text}" if label else text for label, text in sections)


def _other_abstracts(others: list[etree._Element] | tuple[()]) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for oa in others:
        text = _join_sections(_abstract_sections(oa))
        if text:
            out.append((oa.get("Language"), text))
    return out


def _mesh(mesh_list: etree._Element | None) -> list[MeshHeading]:
    if mesh_list is None:
        return []
    out: list[MeshHeading] = []
    for mh in mesh_list:
        descriptor = None
        major = False
        quals: list[tuple[str, bool]] = []
        for c in mh:
            # MeSH names never carry markup: read .text directly (this loop is hot)
            tag = c.tag
            if tag == "DescriptorName":
                descriptor = (c.text or "").strip() or None
                major = c.get("MajorTopicYN") == "Y"
            elif tag == "QualifierName" and (q := (c.text or "").strip()):
                quals.append((q, c.get("MajorTopicYN") == "Y"))
        if descriptor:
            out.append(MeshHeading(descriptor=descriptor, major=major, qualifiers=tuple(quals)))
    return out


def _keywords(keyword_lists: list[etree._Element] | tuple[()]) -> list[str]:
    out: list[str] = []
    for kl in keyword_lists:
        for kw in kl:
            if kw.tag == "Keyword" and (text := _t(kw)) and text not in out:
                out.append(text)
    return out


def _comments_corrections(mck: dict[str, list[etree._Element]]) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    for ccl in mck.get("CommentsCorrectionsList", ()):
        for cc in ccl:
            kind = cc.get("RefType")
            if not kind:
                continue
            for c in cc:
                if c.tag == "PMID" and (pmid := _t(c)):
                    bucket = refs.setdefault(kind, [])
                    if pmid not in bucket:
                        bucket.append(pmid)
    return refs


def _month_number(text: str | None) -> int | None:
    if not text:
        return None
    text = text.strip()
    if text.isdigit():
        n = int(text)
        return n if 1 <= n <= 12 else None
    return _MONTH_NUM.get(text[:3].lower())


def _iso_date(el: etree._Element | None) -> str | None:
    """YYYY-MM-DD (or YYYY-MM / YYYY when PubMed gives no day / month) of a Year/Month/Day element."""
    if el is None:
        return None
    year = month_text = day = None
    for c in el:
        tag = c.tag
        if tag == "Year":
            year = _t(c)
        elif tag == "Month":
            month_text = _t(c)
        elif tag == "Day":
            day = _t(c)
    if not year or not year.isdigit():
        return None
    month = _month_number(month_text)
    if month is None:
        return year
    if not day or not day.isdigit() or not 1 <= int(day) <= 31:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{int(day):02d}"


def _history_date(history: etree._Element | None, status: str) -> str | None:
    if history is None:
        return None
    for d in history:
        if d.get("PubStatus") == status:
            return _iso_date(d)
    return None


def _history(history: etree._Element | None) -> list[tuple[str, str]]:
    """PubMedPubDate entries as (status, "YYYY-MM-DD HH:MM"), in the record's order. PubMed's
    MEDLINE format writes every PHST date with a time, 00:00 where the XML gives none."""
    out: list[tuple[str, str]] = []
    if history is None:
        return out
    for d in history:
        status = d.get("PubStatus")
        day = _iso_date(d)
        if not status or not day:
            continue
        if len(day) == 10:
            hour, minute = _t(d.find("Hour")), _t(d.find("Minute"))
            hh = int(hour) if hour and hour.isdigit() else 0
            mm = int(minute) if minute and minute.isdigit() else 0
            day = f"{day} {hh:02d}:{mm:02d}"
        out.append((status, day))
    return out


def _grants(grant_list: etree._Element | None) -> list[Grant]:
    if grant_list is None:
        return []
    out: list[Grant] = []
    for g in grant_list.iterfind("Grant"):
        grant = Grant(grant_id=_t(g.find("GrantID")), acronym=_t(g.find("Acronym")),
                      agency=_t(g.find("Agency")), country=_t(g.find("Country")))
        if grant != Grant() and grant not in out:
            out.append(grant)
    return out


def _secondary_ids(databanks: etree._Element | None) -> list[str]:
    """DataBankList as "Bank/Accession" (PubMed's SI field), in the record's order."""
    if databanks is None:
        return []
    out: list[str] = []
    for bank in databanks.iter("DataBank"):
        name = _t(bank.find("DataBankName"))
        for acc in bank.iter("AccessionNumber"):
            number = _t(acc)
            if number:
                out.append(f"{name}/{number}" if name else number)
    return list(dict.fromkeys(out))


def _pub_date(pubdate: etree._Element | None) -> tuple[int | None, str | None]:
    """(year, date as PubMed's DP field writes it: "2010 Sep-Oct", "2002 Spring", "2006 Mar 1")."""
    if pubdate is None:
        return None, None
    medline = _t(pubdate.find("MedlineDate"))
    year = _t(pubdate.find("Year"))
    if medline and not year:
        m = _YEAR_RE.search(medline)
        return (int(m.group(1)) if m else None), medline
    if not year:
        return None, None
    parts = [year]
    season = _t(pubdate.find("Season"))
    month_text = _t(pubdate.find("Month"))
    if month_text:
        # "09" -> "Sep" as PubMed's DP shows it; anything else ("Sep", "Sep-Oct") as written
        n = _month_number(month_text) if month_text.isdigit() else None
        parts.append(_MONTHS[n - 1] if n else month_text)
        day = _t(pubdate.find("Day"))
        if day:
            parts.append(str(int(day)) if day.isdigit() else day)
    elif season:
        parts.append(season)
    m = _YEAR_RE.search(year)
    return (int(m.group(1)) if m else None), " ".join(parts)
