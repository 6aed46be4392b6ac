"""A loopback E-utilities server for the harvester's tests and benchmarks.

It answers ``esearch.fcgi`` and ``efetch.fcgi`` under ``/entrez/eutils/`` on 127.0.0.1 the way
NCBI does (same XML shapes, headers, error bodies, the 9,999-record esearch cap, history with
WebEnv/query_key), serving the real PubMed records of ../shared/data/pubmed/efetch-xml. It can
inject every failure the design lists (429, 5xx HTML pages, resets, timeouts, ``<ERROR>`` bodies,
truncated XML, short batches, HTML at 200) at a seeded rate or from a script, and it logs every
request so tests can check politeness (tool/email sent, never more than 3 requests in a second).

Use it from tests through the ``eutils_server`` / ``make_eutils_server`` fixtures (tests/conftest.py)
or standalone for benchmarks and subprocess tests::

    python -m tests.eutils_server --port 8899 --replicate 20000 --fault-rate 0.2

which prints its base URL and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import random
import re
import secrets
import signal
import socket
import struct
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from tests.helpers import EFETCH_XML

EUTILS_PATH = "/entrez/eutils/"
DEFAULT_CAP = 9999
FAULT_KINDS = ("http429", "http5xx", "reset", "timeout", "error200", "error400", "truncated",
               "short", "html200")

# The DOCTYPE system identifiers real answers carry (identifiers only: nothing fetches them). Kept
# out of literal URLs so that a search of the tests for the live host finds only real requests.
EUTILS_DTD = b"https://" + b"eutils.ncbi.nlm.nih.gov/eutils/dtd/"
ESEARCH_HEAD = (b'<?xml version="1.0" encoding="UTF-8" ?>\n'
                b'<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
                b'"' + EUTILS_DTD + b'20060628/esearch.dtd">\n')
EFETCH_HEAD = (b'<?xml version="1.0" ?>\n'
               b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
               b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')
EFETCH_ERROR_HEAD = (b'<?xml version="1.0" encoding="UTF-8" ?>\n'
                     b'<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
                     b'"' + EUTILS_DTD + b'20131226/efetch.dtd">\n')

# What PubMed says (2024-2026) when esearch is asked past its cap; it arrives with HTTP 200.
CAP_MESSAGE = ("Search Backend failed: Exception:\n'retstart' cannot be larger than {last}. For "
               "PubMed, ESearch can only retrieve the first {cap:,} records matching the query. To "
               "obtain more than {cap:,} PubMed records, consider using EDirect that contains "
               "additional logic to batch PubMed search results automatically so that an arbitrary "
               "number can be retrieved.")
# Messages seen in real <ERROR> bodies when the backend hiccups.
BACKEND_ERRORS = (
    "Search Backend failed: Exception: Read timed out",
    "Search Backend failed: Server Error: 502 Bad Gateway",
    "Search Backend failed: Exception: Database is not available",
)


# -- the record database -------------------------------------------------------------------------

_WORD = re.compile(r"[0-9a-z]+")


def words(text: str) -> list[str]:
    """Lower-case ASCII-folded words: what PubMed's word index would hold for ``text``."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(folded)


@dataclass(frozen=True)
class Content:
    """One version of a record's XML and what can be searched in it. Clones share a Content."""

    cid: int
    pmid: str
    xml: bytes
    crdt: date
    mdat: date
    pdat: date | None
    fields: dict[str, tuple[tuple[str, ...], ...]]  # field -> segments of words
    vocab: dict[str, frozenset[str]]  # field -> every word in it (fast pre-check)


@dataclass
class Entry:
    pmid: str
    content: Content
    crdt: date
    mdat: date


def _text(el: etree._Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def _date_of(el: etree._Element | None) -> date | None:
    if el is None:
        return None
    try:
        year = int(el.findtext("Year") or "")
    except ValueError:
        return None
    month_raw = (el.findtext("Month") or "1").strip()
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    if month_raw.isdigit():
        month = int(month_raw)
    elif month_raw[:3].lower() in months:
        month = months.index(month_raw[:3].lower()) + 1
    else:
        month = 1
    day_raw = (el.findtext("Day") or "1").strip()
    day = int(day_raw) if day_raw.isdigit() else 1
    try:
        return date(year, max(1, min(month, 12)), max(1, min(day, 28 if month == 2 else 30)))
    except ValueError:
        return date(year, 1, 1)


def _pub_date(rec: etree._Element) -> date | None:
    pd = rec.find(".//JournalIssue/PubDate")
    if pd is None:
        pd = rec.find(".//Book/PubDate")
    if pd is None:
        return None
    found = _date_of(pd)
    if found is None:
        m = re.search(r"\d{4}", pd.findtext("MedlineDate") or "")
        found = date(int(m.group()), 1, 1) if m else None
    return found


def _history_date(rec: etree._Element, status: str) -> date | None:
    return _date_of(rec.find(f".//History/PubMedPubDate[@PubStatus='{status}']"))


def _record_pmid(rec: etree._Element) -> str:
    pmid = rec.findtext("MedlineCitation/PMID") or rec.findtext("BookDocument/PMID")
    if not pmid:
        raise ValueError("record without a PMID")
    return pmid.strip()


def _content_from_element(cid: int, rec: etree._Element) -> Content:
    pmid = _record_pmid(rec)
    crdt = (_history_date(rec, "entrez") or _history_date(rec, "pubmed")
            or _date_of(rec.find(".//DateCreated")) or _date_of(rec.find(".//DateCompleted"))
            or date(1900, 1, 1))
    mdat = _date_of(rec.find(".//DateRevised")) or crdt
    segs: dict[str, list[tuple[str, ...]]] = collections.defaultdict(list)

    def add(fieldname: str, text: str) -> None:
        w = words(text)
        if w:
            segs[fieldname].append(tuple(w))

    for path in (".//ArticleTitle", ".//VernacularTitle", "BookDocument/Book/BookTitle"):
        for el in rec.iterfind(path):
            add("ti", _text(el))
    for el in rec.iterfind(".//Abstract/AbstractText"):
        add("ab", _text(el))
    for el in rec.iterfind(".//OtherAbstract/AbstractText"):
        add("ab", _text(el))
    for mh in rec.iterfind(".//MeshHeading"):
        desc = mh.find("DescriptorName")
        quals = mh.findall("QualifierName")
        if desc is None:
            continue
        add("mh", _text(desc))
        major = desc.get("MajorTopicYN") == "Y" or any(q.get("MajorTopicYN") == "Y" for q in quals)
        if major:
            add("majr", _text(desc))
        for q in quals:
            add("sh", _text(q))
    for el in rec.iterfind(".//PublicationType"):
        add("pt", _text(el))
    for el in rec.iterfind(".//Keyword"):
        add("kw", _text(el))
    for path in (".//Chemical/NameOfSubstance", ".//SupplMeshName"):
        for el in rec.iterfind(path):
            add("nm", _text(el))
    for path in (".//Journal/Title", ".//Journal/ISOAbbreviation", ".//MedlineTA"):
        for el in rec.iterfind(path):
            add("ta", _text(el))
    for au in rec.iterfind(".//AuthorList/Author"):
        last, fore, ini = au.findtext("LastName"), au.findtext("ForeName"), au.findtext("Initials")
        if last:
            add("au", f"{last} {ini or ''}")
            add("au", f"{last} {fore or ''}")
        coll = au.findtext("CollectiveName")
        if coll:
            add("au", coll)
    for el in rec.iterfind(".//Language"):
        add("la", _text(el))
    for el in rec.iterfind(".//AffiliationInfo/Affiliation"):
        add("ad", _text(el))
    fields = {k: tuple(v) for k, v in segs.items()}
    vocab = {k: frozenset(w for seg in v for w in seg) for k, v in fields.items()}
    xml = etree.tostring(rec, encoding="utf-8", with_tail=False)
    return Content(cid=cid, pmid=pmid, xml=xml, crdt=crdt, mdat=mdat, pdat=_pub_date(rec),
                   fields=fields, vocab=vocab)


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=True, remove_comments=False)


def _elements(xml: bytes) -> Iterable[etree._Element]:
    root = etree.fromstring(xml, _XML_PARSER)
    if root.tag in ("PubmedArticle", "PubmedBookArticle"):
        yield root
        return
    for el in root:
        if el.tag in ("PubmedArticle", "PubmedBookArticle"):
            yield el


_BASE_CACHE: dict[Path, list[Content]] = {}
_BASE_LOCK = threading.Lock()


def load_base(folder: Path = EFETCH_XML) -> list[Content]:
    """Every record under ``folder``, one Content per PMID (the newest version when it repeats).
    Parsed once per process: every server instance copies the mapping, never the bytes."""
    folder = Path(folder)
    with _BASE_LOCK:
        if folder in _BASE_CACHE:
            return _BASE_CACHE[folder]
        best: dict[str, Content] = {}
        ranks: dict[str, tuple[bool, date]] = {}
        files = sorted(folder.rglob("*.xml"))
        if not files:
            raise FileNotFoundError(f"no PubMed XML under {folder} (set KETLIT_SHARED)")
        cid = 0
        for path in files:
            for rec in _elements(path.read_bytes()):
                c = _content_from_element(cid, rec)
                cid += 1
                old = best.get(c.pmid)
                # The 2008 and 2025 copies of a PMID: keep the current (2025) one.
                rank = ("-2008" not in str(path), c.mdat)
                if old is None or rank >= ranks[c.pmid]:
                    best[c.pmid] = c
                    ranks[c.pmid] = rank
        _BASE_CACHE[folder] = list(best.values())
        return _BASE_CACHE[folder]


def _ymd(tag: str, d: date) -> bytes:
    return (f"<{tag}><Year>{d.year:04d}</Year><Month>{d.month:02d}</Month>"
            f"<Day>{d.day:02d}</Day></{tag}>").encode()


def _render(entry: Entry) -> bytes:
    """The record's XML as served for this PMID: clones get their own PMID and dates."""
    c = entry.content
    xml = c.xml
    if entry.pmid != c.pmid:
        src, new = c.pmid.encode(), entry.pmid.encode()
        xml = re.sub(rb"(<PMID\b[^>]*>)" + re.escape(src) + rb"(</PMID>)",
                     lambda m: m.group(1) + new + m.group(2), xml, count=1)
        xml = xml.replace(b'<ArticleId IdType="pubmed">' + src + b"</ArticleId>",
                          b'<ArticleId IdType="pubmed">' + new + b"</ArticleId>")
    if entry.crdt != c.crdt:
        d = entry.crdt
        repl = (f"<Year>{d.year}</Year><Month>{d.month}</Month><Day>{d.day}</Day>").encode()
        for status in (b"entrez", b"pubmed"):
            pat = (rb'(<PubMedPubDate PubStatus="' + status + rb'">)\s*<Year>\d+</Year>\s*'
                   rb"<Month>\d+</Month>\s*<Day>\d+</Day>")
            xml = re.sub(pat, lambda m, r=repl: m.group(1) + r, xml, count=1)
        xml = re.sub(rb"<DateCreated>.*?</DateCreated>", _ymd("DateCreated", d), xml, count=1,
                     flags=re.S)
    if entry.mdat != c.mdat:
        new_rev = _ymd("DateRevised", entry.mdat)
        if b"<DateRevised>" in xml:
            xml = re.sub(rb"<DateRevised>.*?</DateRevised>", new_rev, xml, count=1, flags=re.S)
        else:
            anchor = re.search(rb"</DateCompleted>|</DateCreated>|</PMID>", xml)
            if anchor:
                xml = xml[:anchor.end()] + new_rev + xml[anchor.end():]
    return xml


def parse_query_date(text: str, *, end: bool) -> date:
    """YYYY/MM/DD, YYYY/MM or YYYY (also with '-'); a partial date means its first or last day."""
    parts = [p for p in re.split(r"[/-]", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts) or len(parts) > 3:
        raise ValueError(f"bad date {text!r}")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    if len(parts) > 2:
        return date(year, month, int(parts[2]))
    if not end:
        return date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


class RecordDB:
    """What the loopback PubMed holds: PMID -> (record version, create date, modification date).

    Searching runs over the distinct record versions (a few hundred even when 20,000 clones are
    served) and is then expanded to the PMIDs that carry them, so big replicated databases stay fast.
    """

    def __init__(self, contents: Iterable[Content] = ()) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, Entry] = {}
        self._contents: dict[int, Content] = {}
        self._by_content: dict[int, set[str]] = collections.defaultdict(set)
        self._term_cache: dict[tuple[Any, ...], frozenset[int]] = {}
        self._next_cid = 0
        for c in contents:
            self._contents[c.cid] = c
            self._next_cid = max(self._next_cid, c.cid + 1)
            self._put(Entry(c.pmid, c, c.crdt, c.mdat))

    @classmethod
    def from_shared(cls, folder: Path = EFETCH_XML) -> RecordDB:
        return cls(load_base(folder))

    # -- mutation (the API tests use) --
    def _put(self, entry: Entry) -> None:
        old = self._entries.get(entry.pmid)
        if old is not None:
            self._by_content[old.content.cid].discard(entry.pmid)
        self._entries[entry.pmid] = entry
        self._by_content[entry.content.cid].add(entry.pmid)

    def add_clone(self, src_pmid: str, new_pmid: str, *, crdt: date | None = None,
                  mdat: date | None = None) -> None:
        """Serve a copy of ``src_pmid``'s record under ``new_pmid`` (PMID rewritten in the XML)."""
        with self._lock:
            src = self._entries[str(src_pmid)]
            new_crdt = crdt or src.crdt
            if mdat is None:
                mdat = crdt if crdt is not None else src.mdat
            self._put(Entry(str(new_pmid), src.content, new_crdt, mdat))

    def revise(self, pmid: str, mdat: date, modify: Callable[[bytes], bytes] | None = None) -> None:
        """PubMed revised the record: new modification date, and ``modify`` edits its XML bytes."""
        with self._lock:
            entry = self._entries[str(pmid)]
            if modify is not None:
                new_xml = modify(_render(entry))
                elements = list(_elements(new_xml))
                if len(elements) != 1:
                    raise ValueError("modify() must return exactly one PubmedArticle")
                content = _content_from_element(self._next_cid, elements[0])
                self._next_cid += 1
                self._contents[content.cid] = content
                self._term_cache.clear()
                entry = Entry(entry.pmid, content, entry.crdt, entry.mdat)
            self._put(Entry(entry.pmid, entry.content, entry.crdt, mdat))

    def remove(self, pmid: str) -> None:
        """The record is gone from PubMed: esearch stops finding it, efetch returns nothing."""
        with self._lock:
            entry = self._entries.pop(str(pmid))
            self._by_content[entry.content.cid].discard(entry.pmid)

    def replicate(self, total: int, *, start_pmid: int = 50_000_000,
                  first: date = date(2000, 1, 1), last: date = date(2025, 12, 31)) -> list[str]:
        """Add clones of the real records until the database holds ``total`` records; their create
        dates are spread evenly over [first, last] so date windows are dense. Returns new PMIDs."""
        with self._lock:
            sources = sorted(self._entries, key=int)
            need = total - len(self._entries)
            span = (last - first).days
            new: list[str] = []
            for i in range(max(0, need)):
                src = self._entries[sources[i % len(sources)]]
                pmid = str(start_pmid + i)
                crdt = first + timedelta(days=(span * i) // max(1, need - 1))
                self._put(Entry(pmid, src.content, crdt, crdt))
                new.append(pmid)
            return new

    # -- reading --
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, pmid: object) -> bool:
        return str(pmid) in self._entries

    def pmids(self) -> list[str]:
        with self._lock:
            return sorted(self._entries, key=int, reverse=True)

    def entry(self, pmid: str) -> Entry | None:
        return self._entries.get(str(pmid))

    def record_xml(self, pmid: str) -> bytes | None:
        with self._lock:
            e = self._entries.get(str(pmid))
            return _render(e) if e else None

    def pmids_matching(self, term: str, datetype: str | None = None,
                       mindate: date | str | None = None,
                       maxdate: date | str | None = None) -> list[str]:
        """Ground truth: every PMID the query finds (no cap), newest PMID first like PubMed."""
        lo = parse_query_date(mindate, end=False) if isinstance(mindate, str) else mindate
        hi = parse_query_date(maxdate, end=True) if isinstance(maxdate, str) else maxdate
        node = parse_term(term)
        with self._lock:
            found = self._eval(node)
            if datetype and (lo or hi):
                found &= self._date_filter(datetype, lo or date.min, hi or date.max)
            return sorted(found, key=int, reverse=True)

    def search(self, term: str, datetype: str | None, lo: date | None,
               hi: date | None) -> tuple[list[str], Node, list[str]]:
        node = parse_term(term)
        with self._lock:
            found = self._eval(node)
            if datetype and (lo or hi):
                found &= self._date_filter(datetype, lo or date.min, hi or date.max)
            missing = [t.text for t in node.terms() if not self._eval(t)] if not found else []
            return sorted(found, key=int, reverse=True), node, missing

    def _date_filter(self, datetype: str, lo: date, hi: date) -> set[str]:
        kind = DATE_TAGS.get(datetype.lower(), datetype.lower())
        out = set()
        for pmid, e in self._entries.items():
            if kind in ("crdt", "edat"):
                d = e.crdt
            elif kind == "mdat":
                d = e.mdat
            else:
                d = e.content.pdat
            if d is not None and lo <= d <= hi:
                out.add(pmid)
        return out

    def _eval(self, node: Node) -> set[str]:
        if isinstance(node, Term):
            cids = self._term_cache.get(node.key)
            if cids is None:
                cids = frozenset(c.cid for c in self._contents.values() if node.matches(c))
                self._term_cache[node.key] = cids
            out: set[str] = set()
            for cid in cids:
                out |= self._by_content.get(cid, set())
            return out
        if isinstance(node, DateRange):
            return self._date_filter(node.kind, node.lo, node.hi)
        if not isinstance(node, BoolOp):
            return set()  # a term without words
        acc = self._eval(node.items[0])
        for op, item in zip(node.ops, node.items[1:], strict=True):
            rhs = self._eval(item)
            if op == "AND":
                acc &= rhs
            elif op == "OR":
                acc |= rhs
            else:
                acc -= rhs
        return acc


# -- the term language (enough of PubMed's for real topic queries) --------------------------------

ALL_FIELDS = ("ti", "ab", "mh", "majr", "sh", "pt", "kw", "nm", "ta", "au", "la", "ad")
TEXT_WORD = ("ti", "ab", "mh", "sh", "pt", "kw", "nm")
TAGS: dict[str, tuple[str, ...]] = {
    "ti": ("ti",), "title": ("ti",),
    "ab": ("ab",), "abstract": ("ab",),
    "tiab": ("ti", "ab"), "title/abstract": ("ti", "ab"),
    "tw": TEXT_WORD, "text word": TEXT_WORD, "text words": TEXT_WORD,
    "mh": ("mh",), "mesh": ("mh",), "mesh terms": ("mh",), "mesh term": ("mh",),
    "majr": ("majr",), "mesh major topic": ("majr",),
    "sh": ("sh",), "subheading": ("sh",), "mesh subheading": ("sh",),
    "pt": ("pt",), "publication type": ("pt",),
    "ot": ("kw",), "kw": ("kw",), "keyword": ("kw",), "other term": ("kw",),
    "nm": ("nm",), "rn": ("nm",), "supplementary concept": ("nm",), "substance name": ("nm",),
    "ta": ("ta",), "journal": ("ta",), "jour": ("ta",),
    "au": ("au",), "author": ("au",), "1au": ("au",), "lastau": ("au",), "fau": ("au",),
    "la": ("la",), "language": ("la",),
    "ad": ("ad",), "affiliation": ("ad",),
    "all": ALL_FIELDS, "all fields": ALL_FIELDS,
}
DATE_TAGS = {"crdt": "crdt", "date - create": "crdt", "create date": "crdt",
             "edat": "edat", "date - entry": "edat", "entrez date": "edat",
             "mdat": "mdat", "date - modification": "mdat", "lr": "mdat",
             "dp": "pdat", "pdat": "pdat", "date - publication": "pdat",
             "publication date": "pdat"}
TRANSLATED_TAG = {("ti",): "Title", ("ab",): "Abstract", ("ti", "ab"): "Title/Abstract",
                  TEXT_WORD: "Text Word", ("mh",): "MeSH Terms", ("majr",): "MeSH Major Topic",
                  ("sh",): "MeSH Subheading", ("pt",): "Publication Type", ("kw",): "Other Term",
                  ("nm",): "Supplementary Concept", ("ta",): "Journal", ("au",): "Author",
                  ("la",): "Language", ("ad",): "Affiliation", ALL_FIELDS: "All Fields"}
DATE_NAMES = {"crdt": "Date - Create", "edat": "Date - Entry", "mdat": "Date - Modification",
              "pdat": "Date - Publication"}


class Node:
    def terms(self) -> list[Term]:
        return []

    def translation(self) -> str:
        raise NotImplementedError


@dataclass
class Term(Node):
    text: str  # as written, for PhraseNotFound
    patterns: tuple[tuple[str, bool], ...]  # (word, is_prefix)
    fields: tuple[str, ...]

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.patterns, self.fields)

    def terms(self) -> list[Term]:
        return [self]

    def translation(self) -> str:
        name = TRANSLATED_TAG.get(self.fields, "All Fields")
        return f'"{" ".join(w + ("*" if p else "") for w, p in self.patterns)}"[{name}]'

    def matches(self, c: Content) -> bool:
        n = len(self.patterns)
        exact = [w for w, p in self.patterns if not p]
        for f in self.fields:
            vocab = c.vocab.get(f)
            if not vocab or any(w not in vocab for w in exact):
                continue
            for seg in c.fields[f]:
                for i in range(len(seg) - n + 1):
                    if all((seg[i + k].startswith(w) if p else seg[i + k] == w)
                           for k, (w, p) in enumerate(self.patterns)):
                        return True
        return False


@dataclass
class DateRange(Node):
    kind: str
    lo: date
    hi: date

    def translation(self) -> str:
        return f"{self.lo:%Y/%m/%d}:{self.hi:%Y/%m/%d}[{DATE_NAMES.get(self.kind, self.kind)}]"


@dataclass
class BoolOp(Node):
    items: list[Node]
    ops: list[str] = field(default_factory=list)

    def terms(self) -> list[Term]:
        return [t for i in self.items for t in i.terms()]

    def translation(self) -> str:
        out = self.items[0].translation()
        for op, item in zip(self.ops, self.items[1:], strict=True):
            out += f" {op} {item.translation()}"
        return f"({out})"


class _Nothing(Node):
    """A term that has no words (e.g. '*'): matches nothing, like an unknown phrase."""

    def translation(self) -> str:
        return "()"


_TOKEN_RE = re.compile(r"""\s*(?:(?P<lp>\()|(?P<rp>\))|"(?P<q>[^"]*)"?|(?P<w>[^\s()"\[]+))
                           (?:\s*\[(?P<tag>[^\]]*)\])?""", re.X)


def _lex(term: str) -> list[tuple[str, str, str | None]]:
    """Tokens: ('(' | ')' | 'op' | 'word' | 'phrase', text, tag)."""
    out: list[tuple[str, str, str | None]] = []
    pos = 0
    while pos < len(term):
        if term[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(term, pos)
        if not m or m.end() == pos:
            pos += 1  # a stray character ('[' without a term): skip it, as PubMed does
            continue
        pos = m.end()
        tag = m.group("tag")
        if m.group("lp"):
            out.append(("(", "(", None))
        elif m.group("rp"):
            out.append((")", ")", None))
        elif m.group("q") is not None:
            out.append(("phrase", m.group("q"), tag))
        else:
            w = m.group("w")
            if tag is None and w.upper() in ("AND", "OR", "NOT"):
                out.append(("op", w.upper(), None))
            elif tag is not None and _norm_tag(tag) not in DATE_TAGS:
                # PubMed searches unquoted words before a tag as one phrase:
                # randomized controlled trial[pt] is "randomized controlled trial"[pt].
                phrase = [w]
                while out and out[-1][0] == "word" and out[-1][2] is None:
                    phrase.insert(0, out.pop()[1])
                out.append(("word", " ".join(phrase), tag))
            else:
                out.append(("word", w, tag))
    return out


def _norm_tag(tag: str | None) -> str | None:
    if tag is None:
        return None
    t = tag.strip().lower()
    t = re.sub(r":(noexp|~\d+)$", "", t)
    return t


def _leaf(kind: str, text: str, tag: str | None) -> Node:
    t = _norm_tag(tag)
    if t in DATE_TAGS:
        dkind = DATE_TAGS[t]
        if ":" in text:
            a, _, b = text.partition(":")
            return DateRange(dkind, parse_query_date(a, end=False), parse_query_date(b, end=True))
        return DateRange(dkind, parse_query_date(text, end=False), parse_query_date(text, end=True))
    fields = TAGS.get(t, ALL_FIELDS) if t else ALL_FIELDS
    pats = []
    for raw in text.split():
        prefix = raw.endswith("*")
        ws = words(raw.rstrip("*"))
        for i, w in enumerate(ws):
            pats.append((w, prefix and i == len(ws) - 1))
    if not pats:
        return _Nothing()
    return Term(text=text, patterns=tuple(pats), fields=fields)


def parse_term(term: str) -> Node:
    """PubMed's boolean syntax: operators apply left to right (no precedence), terms side by side
    are ANDed, parentheses group; lenient about unbalanced parentheses like PubMed."""
    toks = _lex(term)
    pos = 0

    def group() -> Node:
        nonlocal pos
        items: list[Node] = []
        ops: list[str] = []
        pending_op: str | None = None
        while pos < len(toks):
            kind, text, tag = toks[pos]
            pos += 1
            if kind == ")":
                break
            if kind == "op":
                if items:
                    pending_op = text
                continue
            if kind == "(":
                node = group()
            else:
                # PubMed's range form "2020/01/01"[crdt] : "2020/12/31"[crdt]
                if (kind == "phrase" and _norm_tag(tag) in DATE_TAGS and pos + 1 < len(toks)
                        and toks[pos][0] == "word" and toks[pos][1] == ":"
                        and toks[pos + 1][0] == "phrase"):
                    text = f"{text}:{toks[pos + 1][1]}"
                    pos += 2
                node = _leaf(kind, text, tag)
            if items:
                ops.append(pending_op or "AND")
            items.append(node)
            pending_op = None
        if not items:
            return _Nothing()
        if len(items) == 1:
            return items[0]
        return BoolOp(items, ops)

    nodes: list[Node] = [group()]
    ops: list[str] = []
    while pos < len(toks):  # a stray ')' closed the top level early: keep going, ANDed
        ops.append("AND")
        nodes.append(group())
    root = nodes[0] if len(nodes) == 1 else BoolOp(nodes, ops)
    return root


# -- the HTTP server --------------------------------------------------------------------------

@dataclass
class LoggedRequest:
    t: float  # time.monotonic() when the request arrived
    method: str
    endpoint: str
    params: dict[str, str]
    n_ids: int
    status: int | None = None
    fault: str | None = None


HTML_PAGES = {
    500: ("NCBI/ERROR - WWW Error Blocked Diagnostic",
          "<h1>WWW Error Blocked Diagnostic</h1><p>Your access to the NCBI website has been "
          "temporarily blocked due to a possible misuse/abuse situation involving your site. "
          "This is not an indication of a security issue such as a virus or attack.</p>"),
    502: ("502 Proxy Error",
          "<h1>Proxy Error</h1><p>The proxy server received an invalid response from an upstream "
          "server.<br />The proxy server could not handle the request.</p>"
          "<p>Reason: <strong>Error reading from remote server</strong></p>"),
    503: ("503 Service Unavailable",
          "<h1>Service Unavailable</h1><p>The server is temporarily unable to service your request "
          "due to maintenance downtime or capacity problems. Please try again later.</p>"),
    200: ("NCBI/ERROR - WWW Error Blocked Diagnostic",
          "<h1>WWW Error Blocked Diagnostic</h1><p>The requested service is temporarily "
          "unavailable. Please try again later.</p>"),
    404: ("404 Not Found", "<h1>Not Found</h1><p>The requested URL was not found on this server."
          "</p>"),
}


def html_page(status: int) -> bytes:
    title, body = HTML_PAGES.get(status, HTML_PAGES[500])
    return ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head>'
            f'<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
            f"<title>{title}</title></head><body>{body}<hr /><address>NCBI</address>"
            "</body></html>\n").encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 15  # idle keep-alive connections are closed after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every small answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is the server's, not stderr

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length) if length else b"")

    def _handle(self, body: bytes) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        params: dict[str, str] = {}
        raw = parse_qs(parts.query, keep_blank_values=True)
        if body:
            for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                raw.setdefault(k, []).extend(v)
        for k, v in raw.items():
            params[k] = ",".join(v) if k == "id" else v[-1]
        endpoint = parts.path.rsplit("/", 1)[-1]
        ids = [i for i in re.split(r"[,\s]+", params.get("id", "")) if i]
        entry = LoggedRequest(time.monotonic(), self.command, endpoint, params, len(ids))
        owner._log(entry)
        try:
            owner._respond(self, entry, parts.path, params, ids)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- writing answers --
    def send_body(self, status: int, body: bytes, content_type: str, *, api_key: bool,
                  entry: LoggedRequest, close: bool = False, cut: int | None = None) -> None:
        """Write an answer; ``cut`` sends only that many body bytes, framed by closing the
        connection (no Content-Length), so the client sees a clean but truncated body."""
        entry.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        limit = 10 if api_key else 3
        self.send_header("X-RateLimit-Limit", str(limit))
        remaining = max(0, limit - self.server.owner._recent_count(entry.t, api_key))
        self.send_header("X-RateLimit-Remaining", str(remaining))
        self.send_header("Access-Control-Expose-Headers", "X-RateLimit-Limit,X-RateLimit-Remaining")
        self.send_header("Cache-Control", "private")
        if cut is None:
            self.send_header("Content-Length", str(len(body)))
        if close or cut is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body if cut is None else body[:cut])

    def reset(self, partial: bytes | None = None, content_type: str = "text/xml") -> None:
        """Drop the connection with a TCP reset, before any answer or in the middle of a body."""
        if partial is not None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(partial)))
            self.end_headers()
            self.wfile.write(partial[: max(1, len(partial) // 2)])
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: EutilsServer


@dataclass
class _History:
    webenv: str
    queries: dict[str, list[str]] = field(default_factory=dict)


class EutilsServer:
    """The loopback E-utilities service. ``start()`` it (or use it as a context manager)."""

    def __init__(self, db: RecordDB | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 cap: int = DEFAULT_CAP, cap_mode: str = "strict", fault_rate: float = 0.0,
                 faults: Sequence[str] = FAULT_KINDS, seed: int = 0,
                 enforce_rate: bool = False, hold_s: float = 3.0) -> None:
        self.db = db if db is not None else RecordDB.from_shared()
        self.host, self._port = host, port
        self.cap = cap
        # "strict": a page that would cross the cap of a query that exceeds it is an <ERROR>
        # (catches a harvester that pages too far); "clamp": PubMed's quieter behaviour of cutting
        # the page at the cap. retstart past the cap is an <ERROR> in both.
        self.cap_mode = cap_mode
        self.enforce_rate = enforce_rate
        self.hold_s = hold_s
        self.requests: list[LoggedRequest] = []
        self.fault_counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._script: collections.deque[str] = collections.deque()
        self._history: dict[str, _History] = {}
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._bound_port: int | None = None
        self._thread: threading.Thread | None = None
        self.set_faults(fault_rate, faults)

    # -- lifecycle --
    def start(self) -> EutilsServer:
        self._httpd = _HTTPServer((self.host, self._port), _Handler)
        self._httpd.owner = self
        self._bound_port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name="eutils-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> EutilsServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; still known after stop() so tests can point a client at a dead
        server."""
        assert self._bound_port is not None, "server not started"
        return self._bound_port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{EUTILS_PATH}"

    # -- faults --
    def set_faults(self, rate: float, kinds: Sequence[str] | None = None) -> None:
        kinds = tuple(FAULT_KINDS if kinds is None else kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)} (known: {FAULT_KINDS})")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be within 0..1")
        with self._lock:
            self.fault_rate, self.fault_kinds = rate, kinds

    def fail_next(self, n: int, kind: str) -> None:
        """The next ``n`` requests fail with ``kind`` (before any random fault)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._script.extend([kind] * n)

    def _pick_fault(self, endpoint: str, n_records: int) -> str | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if self.fault_rate <= 0 or self._rng.random() >= self.fault_rate:
                return None
            kinds = [k for k in self.fault_kinds
                     if k != "short" or (endpoint == "efetch.fcgi" and n_records > 1)]
            return self._rng.choice(kinds) if kinds else None

    # -- politeness --
    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def _recent_count(self, now: float, api_key: bool) -> int:
        with self._lock:
            return sum(1 for r in self.requests
                       if now - 1.0 < r.t <= now and bool(r.params.get("api_key")) == api_key)

    def max_requests_in_any_second(self, endpoint: str | None = None) -> int:
        """The most requests that arrived within any sliding one-second window."""
        with self._lock:
            times = sorted(r.t for r in self.requests if endpoint in (None, r.endpoint))
        best = 0
        for i, t in enumerate(times):
            j = bisect.bisect_left(times, t + 1.0)
            best = max(best, j - i)
        return best

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.fault_counts.clear()

    # -- answering --
    def _respond(self, h: _Handler, entry: LoggedRequest, path: str, params: dict[str, str],
                 ids: list[str]) -> None:
        api_key = bool(params.get("api_key"))
        if not path.startswith(EUTILS_PATH) or entry.endpoint not in ("esearch.fcgi",
                                                                        "efetch.fcgi"):
            h.send_body(404, html_page(404), "text/html; charset=UTF-8", api_key=api_key,
                        entry=entry)
            return
        if self.enforce_rate:
            limit = 10 if api_key else 3
            count = self._recent_count(entry.t, api_key)
            if count > limit:
                self._send_429(h, entry, params, count, limit)
                return
        root = "eSearchResult" if entry.endpoint == "esearch.fcgi" else "eFetchResult"
        if params.get("db", "pubmed") != "pubmed":
            self._xml_error(h, entry, api_key, root, 400,
                            f"Invalid db name specified: {params.get('db')}")
            return
        if entry.endpoint == "esearch.fcgi":
            self._esearch(h, entry, params)
        else:
            self._efetch(h, entry, params, ids)

    def _send_429(self, h: _Handler, entry: LoggedRequest, params: dict[str, str], count: int,
                  limit: int) -> None:
        who = params.get("api_key") or h.client_address[0]
        body = json.dumps({"error": "API rate limit exceeded", "api-key": who,
                           "count": str(count), "limit": str(limit)},
                          separators=(",", ":")).encode()
        h.send_body(429, body, "application/json", api_key=bool(params.get("api_key")),
                    entry=entry)

    def _inject(self, h: _Handler, entry: LoggedRequest, params: dict[str, str], kind: str,
                good: bytes, error_root: str) -> bool:
        """Answer with fault ``kind`` instead of ``good``; False when the caller must answer
        (``short`` is applied by efetch itself)."""
        with self._lock:
            self.fault_counts[kind] += 1
        entry.fault = kind
        api_key = bool(params.get("api_key"))
        if kind == "http429":
            limit = 10 if api_key else 3
            self._send_429(h, entry, params, limit + 2, limit)
        elif kind == "http5xx":
            status = self._rng.choice((500, 502, 503))
            h.send_body(status, html_page(status), "text/html; charset=UTF-8", api_key=api_key,
                        entry=entry, close=True)
        elif kind == "html200":
            h.send_body(200, html_page(200), "text/html; charset=UTF-8", api_key=api_key,
                        entry=entry)
        elif kind in ("error200", "error400"):
            head = ESEARCH_HEAD if error_root == "eSearchResult" else EFETCH_ERROR_HEAD
            msg = escape(self._rng.choice(BACKEND_ERRORS))
            body = head + f"<{error_root}>\n\t<ERROR>{msg}</ERROR>\n</{error_root}>\n".encode()
            h.send_body(200 if kind == "error200" else 400, body, "text/xml; charset=UTF-8",
                        api_key=api_key, entry=entry)
        elif kind == "truncated":
            start = good.find(b"<PubmedArticle")
            if start < 0:
                start = good.find(b"<Id>")
            start = max(start, len(good) // 3)
            cut = self._rng.randint(start + 1, max(start + 1, len(good) - 20))
            h.send_body(200, good, "text/xml; charset=UTF-8", api_key=api_key, entry=entry,
                        cut=cut)
        elif kind == "reset":
            entry.status = 0
            h.reset(good if self._rng.random() < 0.5 else None)
        elif kind == "timeout":
            entry.status = 0
            self._stop.wait(self.hold_s)
            h.reset(None)
        else:
            return False
        return True

    def _esearch(self, h: _Handler, entry: LoggedRequest, params: dict[str, str]) -> None:
        api_key = bool(params.get("api_key"))
        term = params.get("term", "")
        if not term.strip():
            self._xml_error(h, entry, api_key, "eSearchResult", 400,
                            "Empty term and query_key - nothing todo")
            return
        try:
            retstart = int(params.get("retstart") or 0)
            retmax = int(params.get("retmax") or 20)
        except ValueError:
            self._xml_error(h, entry, api_key, "eSearchResult", 400,
                            "Invalid retstart or retmax parameter")
            return
        datetype = params.get("datetype") or None
        lo = hi = None
        try:
            if params.get("mindate"):
                lo = parse_query_date(params["mindate"], end=False)
            if params.get("maxdate"):
                hi = parse_query_date(params["maxdate"], end=True)
        except ValueError:
            self._xml_error(h, entry, api_key, "eSearchResult", 400, "Invalid date")
            return
        if (lo or hi) and not datetype:
            datetype = "pdat"
        found, node, missing = self.db.search(term, datetype, lo, hi)
        count = len(found)
        translation = node.translation()
        if datetype and (lo or hi):
            dname = DATE_NAMES.get(DATE_TAGS.get(datetype.lower(), datetype), datetype)
            translation += (f" AND {(lo or date(1000, 1, 1)):%Y/%m/%d}:"
                            f"{(hi or date(3000, 12, 31)):%Y/%m/%d}[{dname}]")
        capped = found[: self.cap]
        fault = self._pick_fault("esearch.fcgi", 0)
        past_cap = retstart >= self.cap and count > 0
        crosses_cap = (self.cap_mode == "strict" and count > self.cap
                       and retstart + min(retmax, self.cap) > self.cap)
        if past_cap or crosses_cap:
            good = self._cap_error()
        else:
            good = self._esearch_xml(params, count, retstart, min(retmax, self.cap), capped,
                                     translation, missing, params.get("retmode") == "json")
        if fault and self._inject(h, entry, params, fault, good, "eSearchResult"):
            return
        if params.get("retmode") == "json":
            h.send_body(200, good, "application/json; charset=UTF-8", api_key=api_key,
                        entry=entry)
        else:
            h.send_body(200, good, "text/xml; charset=UTF-8", api_key=api_key, entry=entry)

    def _cap_error(self) -> bytes:
        msg = CAP_MESSAGE.format(last=self.cap - 1, cap=self.cap)
        return ESEARCH_HEAD + f"<eSearchResult>\n\t<ERROR>{escape(msg)}</ERROR>\n</eSearchResult>\n".encode()

    def _esearch_xml(self, params: dict[str, str], count: int, retstart: int, retmax: int,
                     capped: list[str], translation: str, missing: list[str],
                     as_json: bool) -> bytes:
        page = capped[retstart: retstart + retmax]
        key = webenv = None
        if params.get("usehistory", "").lower() == "y":
            with self._lock:
                webenv = params.get("WebEnv") or ""
                hist = self._history.get(webenv)
                if hist is None:
                    webenv = "MCID_" + secrets.token_hex(12)
                    hist = self._history[webenv] = _History(webenv)
                key = str(len(hist.queries) + 1)
                hist.queries[key] = list(capped)
        if as_json:
            res: dict[str, Any] = {"count": str(count), "retmax": str(len(page)),
                                   "retstart": str(retstart)}
            if key:
                res.update(querykey=key, webenv=webenv)
            res.update(idlist=page, translationset=[], querytranslation=translation)
            if count == 0:
                res["errorlist"] = {"phrasesnotfound": missing, "fieldsnotfound": []}
                res["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": [],
                                      "outputmessages": ["No items found."]}
            return json.dumps({"header": {"type": "esearch", "version": "0.3"},
                               "esearchresult": res}).encode()
        out = [f"<eSearchResult><Count>{count}</Count><RetMax>{len(page)}</RetMax>"
               f"<RetStart>{retstart}</RetStart>"]
        if key:
            out.append(f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>")
        if page:
            out.append("<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in page) + "</IdList>")
        else:
            out.append("<IdList/>")
        out.append(f"<TranslationSet/><QueryTranslation>{escape(translation)}</QueryTranslation>")
        if count == 0:
            if missing:
                out.append("<ErrorList>" + "".join(f"<PhraseNotFound>{escape(m)}</PhraseNotFound>"
                                                   for m in missing) + "</ErrorList>")
            out.append("<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>")
        out.append("</eSearchResult>\n")
        return ESEARCH_HEAD + "".join(out).encode()

    def _xml_error(self, h: _Handler, entry: LoggedRequest, api_key: bool, root: str, status: int,
                   message: str) -> None:
        head = ESEARCH_HEAD if root == "eSearchResult" else EFETCH_ERROR_HEAD
        body = head + f"<{root}>\n\t<ERROR>{escape(message)}</ERROR>\n</{root}>\n".encode()
        h.send_body(status, body, "text/xml; charset=UTF-8", api_key=api_key, entry=entry)

    def _efetch(self, h: _Handler, entry: LoggedRequest, params: dict[str, str],
                ids: list[str]) -> None:
        api_key = bool(params.get("api_key"))
        if not ids and params.get("WebEnv"):
            key = params.get("query_key") or "1"
            with self._lock:
                hist = self._history.get(params["WebEnv"])
                stored = hist.queries.get(key) if hist else None
            if stored is None:
                self._xml_error(h, entry, api_key, "eFetchResult", 400,
                                f"Unable to obtain query #{key}")
                return
            try:
                retstart = int(params.get("retstart") or 0)
                retmax = int(params.get("retmax") or 20)
            except ValueError:
                self._xml_error(h, entry, api_key, "eFetchResult", 400,
                                "Invalid retstart or retmax parameter")
                return
            ids = stored[retstart: retstart + retmax]
            entry.n_ids = len(ids)
        elif not ids:
            self._xml_error(h, entry, api_key, "eFetchResult", 400, "Empty id list - nothing todo")
            return
        seen: set[str] = set()
        records: list[bytes] = []
        for pmid in ids:
            if pmid in seen:
                continue
            seen.add(pmid)
            xml = self.db.record_xml(pmid)
            if xml is not None:  # unknown ids are silently omitted, as PubMed does
                records.append(xml)
        fault = self._pick_fault("efetch.fcgi", len(records))
        if fault == "short" and records:
            with self._lock:
                self.fault_counts["short"] += 1
                drop = set(self._rng.sample(range(len(records)),
                                            self._rng.randint(1, max(1, len(records) // 2))))
            entry.fault = "short"
            records = [r for i, r in enumerate(records) if i not in drop]
            fault = None
        elif fault == "short":
            fault = None
        body = EFETCH_HEAD + b"<PubmedArticleSet>\n" + b"\n".join(records) + (
            b"\n" if records else b"") + b"</PubmedArticleSet>\n"
        if fault and self._inject(h, entry, params, fault, body, "eFetchResult"):
            return
        h.send_body(200, body, "text/xml; charset=UTF-8", api_key=api_key, entry=entry)


# -- standalone ------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.eutils_server",
                                 description="Loopback E-utilities server over the shared records.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--cap", type=int, default=DEFAULT_CAP, help="esearch cap (default 9999)")
    ap.add_argument("--cap-mode", choices=("strict", "clamp"), default="strict")
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--faults", default=",".join(FAULT_KINDS),
                    help="comma-separated fault kinds to draw from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--replicate", type=int, default=0,
                    help="clone real records under new PMIDs until the database holds N records")
    ap.add_argument("--enforce-rate", action="store_true",
                    help="answer 429 beyond 3 requests/s (10 with api_key), as NCBI does")
    ap.add_argument("--hold-s", type=float, default=3.0, help="how long a 'timeout' fault holds")
    args = ap.parse_args(argv)
    db = RecordDB.from_shared()
    if args.replicate:
        db.replicate(args.replicate)
    kinds = [k for k in args.faults.split(",") if k]
    server = EutilsServer(db, host=args.host, port=args.port, cap=args.cap, cap_mode=args.cap_mode,
                          fault_rate=args.fault_rate, faults=kinds, seed=args.seed,
                          enforce_rate=args.enforce_rate, hold_s=args.hold_s).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(server.base_url, flush=True)
    while not done.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
