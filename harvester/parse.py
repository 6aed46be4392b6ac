"""PubMed XML (efetch answers, "Save as XML" exports, baseline and update files) -> Article.

Streaming: :func:`iter_pubmed` walks the document with ``lxml.etree.iterparse`` and clears every
record (and the records before it) once it has been turned into an :class:`Article`, so a
baseline file of 30,000 records parses in the memory of one record. No DTD is loaded and nothing
is fetched from the network: PubMed's DOCTYPE points at NCBI, and old files at ``http://`` URLs.

Everything that is not a well-formed ``<PubmedArticleSet>`` raises :class:`PubMedParseError`:
truncated or malformed XML, an HTML page from a proxy, an E-utilities ``<ERROR>`` body. The
harvester retries on that error, so it is never swallowed here.

Handled vintages: DTDs from 2008 (``DateCreated``, article-level ``Affiliation``, no ``Version``
on ``PMID``) to 2025; ``PubmedArticle`` and ``PubmedBookArticle``; ``DeleteCitation`` lists.
Inline markup becomes plain text through :mod:`harvester.markup`.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from harvester.markup import element_html, element_text
from index.article import Article, Author, Grant, MeshHeading


class PubMedParseError(ValueError):
    """The body is not (or not all of) a PubMed ``<PubmedArticleSet>``; says what and where."""


@dataclass(frozen=True)
class DeletedCitations:
    """PMIDs that a baseline/update file's ``<DeleteCitation>`` removes from PubMed."""

    pmids: tuple[str, ...]


Source = bytes | bytearray | str | os.PathLike[str] | IO[bytes]

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation", "ERROR")
_ROOT = "PubmedArticleSet"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")
_SNIFF = 4096


# -- public API -----------------------------------------------------------------------------------


def iter_pubmed(source: Source) -> Iterator[Article | DeletedCitations]:
    """Stream the records of a PubMed XML document in constant memory.

    ``source`` is the document's bytes, a path (``.gz`` or gzip magic -> decompressed) or a binary
    file object. Yields an :class:`Article` per ``PubmedArticle``/``PubmedBookArticle`` and a
    :class:`DeletedCitations` per ``DeleteCitation``, in document order. Raises
    :class:`PubMedParseError` on anything that is not a well-formed ``PubmedArticleSet`` (records
    before the fault have already been yielded: callers that need all-or-nothing collect first,
    as :func:`parse_articles` does).
    """
    name, stream, close = _open(source)
    try:
        yield from _iterate(stream, name)
    finally:
        if close is not None:
            close()


def parse_articles(data: bytes) -> list[Article]:
    """Every Article of one efetch answer; ``[]`` for an empty ``<PubmedArticleSet/>``.

    All or nothing: a truncated, malformed, HTML or ``<ERROR>`` body raises PubMedParseError.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"parse_articles takes the response body as bytes, not {type(data).__name__}")
    return [r for r in iter_pubmed(bytes(data)) if isinstance(r, Article)]


# -- the document ---------------------------------------------------------------------------------


class _Prefixed:
    """A read()-able stream that first returns the bytes already sniffed from the source."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)


def _open(source: Source) -> tuple[str, Any, Any]:
    """(name for messages, a read()-able byte stream, closer or None)."""
    if isinstance(source, bytes | bytearray):
        head = bytes(source)
        if head[:2] == b"\x1f\x8b":
            try:
                head = gzip.decompress(head)
            except (OSError, EOFError, zlib.error) as exc:
                raise PubMedParseError(f"response: corrupt gzip body: {exc}") from exc
        _sniff(head, "response")
        return "response", io.BytesIO(_strip_lead(head)), None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by iter_pubmed's finally
        except OSError as exc:
            raise PubMedParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
        name = str(path)
        fobj: IO[bytes] = raw
        if raw.read(2) == b"\x1f\x8b" or path.suffix == ".gz":
            raw.seek(0)
            fobj = gzip.GzipFile(fileobj=raw, mode="rb")
        else:
            raw.seek(0)

        def close() -> None:
            fobj.close()
            raw.close()

        try:
            return name, _sniffed_stream(fobj, name), close
        except BaseException:
            close()
            raise
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "stream"))
        return name, _sniffed_stream(source, name), None
    raise TypeError(f"iter_pubmed takes bytes, a path or a binary file, not {type(source).__name__}")


def _sniffed_stream(fobj: IO[bytes], name: str) -> _Prefixed:
    try:
        head = fobj.read(_SNIFF)
    except (OSError, EOFError, zlib.error) as exc:
        raise PubMedParseError(f"{name}: cannot read: {exc}") from exc
    if isinstance(head, str):
        raise TypeError(f"{name}: open the file in binary mode ('rb')")
    _sniff(head, name)
    return _Prefixed(_strip_lead(head), fobj)


def _strip_lead(head: bytes) -> bytes:
    # A byte-order mark is legal XML, but whitespace before "<?xml" is not; pasted or re-saved
    # exports sometimes carry both, and neither changes what the document says.
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(b" \t\r\n")


def _sniff(head: bytes, name: str) -> None:
    start = _strip_lead(head)[:512].lower()
    if not start:
        raise PubMedParseError(f"{name}: empty body, not PubMed XML")
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start[:200]:
        title = re.search(rb"<title>(.*?)</title>", head, re.I | re.S)
        what = f" ({' '.join(title.group(1).decode('utf-8', 'replace').split())[:120]})" if title else ""
        raise PubMedParseError(f"{name}: an HTML page{what}, not PubMed XML")
    if start[:1] in (b"{", b"["):
        raise PubMedParseError(f"{name}: a JSON body, not PubMed XML: {head[:200]!r}")


def _iterate(stream: Any, name: str) -> Iterator[Article | DeletedCitations]:
    context = etree.iterparse(stream, events=("end",), tag=_RECORD_TAGS, resolve_entities=False,
                              no_network=True, load_dtd=False,
                              remove_comments=True)
    checked_root = False
    try:
        for _, el in context:
            tag = el.tag
            if tag == "ERROR":
                message = " ".join("".join(el.itertext()).split())
                raise PubMedParseError(
                    f"{name}: E-utilities error at line {el.sourceline}: {message or '(empty)'}")
            parent = el.getparent()
            if not checked_root:
                root = el.getroottree().getroot()
                if root.tag != _ROOT:
                    raise PubMedParseError(
                        f"{name}: root element is <{root.tag}>, not <{_ROOT}>")
                checked_root = True
            if parent is None or parent.tag != _ROOT:
                # nested inside something else (e.g. a <Reference>): not a record of this set
                continue
            if tag == "PubmedArticle":
                record: Article | DeletedCitations = _article(el, name)
            elif tag == "PubmedBookArticle":
                record = _book(el, name)
            else:
                record = DeletedCitations(tuple(
                    p.text.strip() for p in el.iter("PMID") if p.text and p.text.strip()))
            # Constant memory: drop this record and every finished sibling before it.
            el.clear(keep_tail=False)
            while el.getprevious() is not None:
                del parent[0]
            yield record
    except etree.XMLSyntaxError as exc:
        line, col = (exc.position if exc.position else (exc.lineno, 0))
        raise PubMedParseError(
            f"{name}: malformed or truncated XML at line {line}, column {col}: {exc.msg}") from exc
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz, a failing disk
        raise PubMedParseError(f"{name}: cannot read: {exc}") from exc
    root_el = context.root
    if root_el is None:
        raise PubMedParseError(f"{name}: no XML document found")
    if root_el.tag != _ROOT:
        raise PubMedParseError(f"{name}: root element is <{root_el.tag}>, not <{_ROOT}>")


# -- records --------------------------------------------------------------------------------------


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


def _pmid(el: etree._Element | None, name: str, record: etree._Element) -> str:
    pmid = _t(el)
    if not pmid:
        raise PubMedParseError(f"{name}: record without a PMID at line {record.sourceline}")
    return pmid


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


def _article(rec: etree._Element, name: str) -> Article:
    mc = rec.find("MedlineCitation")
    if mc is None:
        raise PubMedParseError(
            f"{name}: PubmedArticle without MedlineCitation at line {rec.sourceline}")
    mck = _children(mc)
    art = _one(mck, "Article")
    if art is None:
        raise PubMedParseError(f"{name}: MedlineCitation without Article at line {mc.sourceline}")
    ak = _children(art)
    pmid = _pmid(_one(mck, "PMID"), name, rec)
    pd = rec.find("PubmedData")
    pdk = _children(pd)
    jk = _children(_one(ak, "Journal"))
    ik = _children(_one(jk, "JournalIssue"))
    pub_year, pub_date = _pub_date(_one(ik, "PubDate"))

    ids = _article_ids(_one(pdk, "ArticleIdList"))
    doi = pii = None
    for loc in ak.get("ELocationID", ()):
        if loc.get("ValidYN", "Y") == "N":
            continue
        kind = loc.get("EIdType")
        if kind == "doi" and doi is None:
            doi = _t(loc)
        elif kind == "pii" and pii is None:
            pii = _t(loc)
    doi = doi or ids.get("doi")

    mji = _children(_one(mck, "MedlineJournalInfo"))
    typed_issn: dict[str, str] = {}
    for el in jk.get("ISSN", ()):
        if (n := _t(el)):
            typed_issn.setdefault((el.get("IssnType") or "Print").lower(), n)
    linking = _t(_one(mji, "ISSNLinking"))
    issn = _t(_one(jk, "ISSN")) or linking
    chem_names: list[str] = []
    chem_numbers: list[str] = []
    for cl in mck.get("ChemicalList", ()):
        for c in cl:
            ck = _children(c)
            if (nm := _t(_one(ck, "NameOfSubstance"))):
                chem_names.append(nm)
                chem_numbers.append(_t(_one(ck, "RegistryNumber")) or "0")

    vernacular = _t(_one(ak, "VernacularTitle"))
    title_el = _one(ak, "ArticleTitle")
    title = _t(title_el)

    authors = _authors(_one(ak, "AuthorList"))
    legacy_aff = _t(_one(ak, "Affiliation"))  # 2008 DTD: one affiliation, the first author's
    if legacy_aff and authors and not any(a.affiliations for a in authors):
        first = authors[0]
        authors[0] = Author(last=first.last, fore=first.fore, initials=first.initials,
                            collective=first.collective, affiliations=(legacy_aff,),
                            orcid=first.orcid)

    sections = _abstract_sections(_one(ak, "Abstract"))
    pub_types = [t for ptl in ak.get("PublicationTypeList", ()) for p in ptl if (t := _t(p))]
    refs = _comments_corrections(mck)
    retraction_pmids = refs.get("RetractionIn", [])

    history = _one(pdk, "History")
    entrez = _history_date(history, "entrez") or _history_date(history, "pubmed") \
        or _iso_date(_one(mck, "DateCreated"))

    pk = _children(_one(ak, "Pagination"))
    pages = _t(_one(pk, "MedlinePgn"))
    if pages is None:
        start, end = _t(_one(pk, "StartPage")), _t(_one(pk, "EndPage"))
        pages = f"{start}-{end}" if start and end else (start or None)
    if pages is None and not pk:
        # Online-only journals number articles instead of paging them; with no Pagination the
        # pii ELocationID is that number ("e42692"), which is what a citation shows as pages.
        pages = pii

    epub = None
    for ad in ak.get("ArticleDate", ()):
        if ad.get("DateType", "Electronic") == "Electronic":
            epub = _iso_date(ad)
            if epub:
                break

    return Article(
        pmid=pmid,
        title=title or vernacular,
        abstract=_join_sections(sections),
        abstract_sections=sections,
        authors=authors,
        journal=_t(_one(jk, "Title")),
        # MedlineTA is NLM's abbreviation (the ISO one without periods); some records lack ISO
        journal_iso=_t(_one(jk, "ISOAbbreviation")) or _t(_one(mji, "MedlineTA")),
        issn=issn,
        volume=_t(_one(ik, "Volume")),
        issue=_t(_one(ik, "Issue")),
        pages=pages,
        pub_year=pub_year,
        pub_date=pub_date,
        epub_date=epub,
        doi=doi,
        pmcid=ids.get("pmc"),
        languages=[x for la in ak.get("Language", ()) if (x := _t(la))],
        publication_types=pub_types,
        mesh=_mesh(_one(mck, "MeshHeadingList")),
        keywords=_keywords(mck.get("KeywordList", ())),
        chemicals=chem_names,
        chemical_numbers=chem_numbers,
        issn_print=typed_issn.get("print"),
        issn_electronic=typed_issn.get("electronic"),
        issn_linking=linking,
        pii=pii or ids.get("pii"),
        country=_t(_one(mji, "Country")),
        retracted="Retracted Publication" in pub_types or bool(retraction_pmids),
        retraction_pmids=retraction_pmids,
        concern_pmids=refs.get("ExpressionOfConcernIn", []),
        erratum_pmids=refs.get("ErratumIn", []),
        entrez_date=entrez,
        revised_date=_iso_date(_one(mck, "DateRevised")),
        status=mc.get("Status"),
        vernacular_title=vernacular,
        other_abstracts=_other_abstracts(mck.get("OtherAbstract", ())),
        secondary_ids=_secondary_ids(_one(ak, "DataBankList")),
        title_html=element_html(title_el) if title else None,
        grants=_grants(_one(ak, "GrantList")),
        coi_statement=_t(_one(mck, "CoiStatement")),
        copyright=_t(_one(ak, "Abstract").find("CopyrightInformation"))
        if _one(ak, "Abstract") is not None else None,
        history=_history(history),
        publication_status=_t(_one(pdk, "PublicationStatus")),
        citation_subsets=[x for el in mck.get("CitationSubset", ()) if (x := _t(el))],
        nlm_unique_id=_t(_one(mji, "NlmUniqueID")),
        completed_date=_iso_date(_one(mck, "DateCompleted")),
    )


def _book(rec: etree._Element, name: str) -> Article:
    bd = rec.find("BookDocument")
    if bd is None:
        raise PubMedParseError(
            f"{name}: PubmedBookArticle without BookDocument at line {rec.sourceline}")
    pmid = _pmid(bd.find("PMID"), name, rec)
    book = bd.find("Book")
    pbd = rec.find("PubmedBookData")
    ids = _article_ids(bd.find("ArticleIdList"))
    for key, value in _article_ids(pbd.find("ArticleIdList") if pbd is not None else None).items():
        ids.setdefault(key, value)

    authors: list[Author] = []
    editors: list[Author] = []
    for container in (bd, book):
        if container is None:
            continue
        for al in container.iterfind("AuthorList"):
            kind = al.get("Type", "authors")
            if kind == "editors":
                editors = editors or _authors(al)
            elif kind == "authors":
                authors = authors or _authors(al)

    book_title = _t(book.find("BookTitle")) if book is not None else None
    vernacular = _t(bd.find("VernacularTitle"))
    title = _t(bd.find("ArticleTitle")) or book_title or vernacular
    pub_year, pub_date = _pub_date(book.find("PubDate") if book is not None else None)
    sections = _abstract_sections(bd.find("Abstract"))
    pub_types = [t for t in (_t(p) for p in bd.iterfind("PublicationType")) if t]
    pub_types += [t for t in (_t(p) for p in bd.iterfind("PublicationTypeList/PublicationType"))
                  if t and t not in pub_types]
    keywords = _keywords(bd.findall("KeywordList"))
    history = pbd.find("History") if pbd is not None else None

    return Article(
        pmid=pmid,
        title=title,
        abstract=_join_sections(sections),
        abstract_sections=sections,
        authors=authors,
        volume=_t(book.find("Volume")) if book is not None else None,
        pages=_t(bd.find("Pagination/MedlinePgn")),
        pub_year=pub_year,
        pub_date=pub_date,
        doi=ids.get("doi"),
        pmcid=ids.get("pmc"),
        languages=[x for x in (_t(la) for la in bd.iterfind("Language")) if x],
        publication_types=pub_types,
        keywords=keywords,
        retracted="Retracted Publication" in pub_types,
        entrez_date=(_history_date(history, "entrez") or _history_date(history, "pubmed")),
        revised_date=_iso_date(bd.find("DateRevised")),
        status=None,
        vernacular_title=vernacular,
        record_type="book",
        book_title=book_title,
        publisher=_t(book.find("Publisher/PublisherName")) if book is not None else None,
        publisher_location=(_t(book.find("Publisher/PublisherLocation"))
                            if book is not None else None),
        isbn=_t(book.find("Isbn")) if book is not None else None,
        editors=editors,
        bookaccession=ids.get("bookaccession"),
        history=_history(history),
        publication_status=_t(pbd.find("PublicationStatus")) if pbd is not None else None,
    )


# -- parts ----------------------------------------------------------------------------------------


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
