"""One PubMed record element (``PubmedArticle``, ``PubmedBookArticle``) -> Article.

Split from parse.py, which streams the document and hands each finished record element here;
the per-field readers these builders call are in parse_fields.py. A record that cannot be an
Article (no PMID, no Article element) raises PubMedParseError, re-exported by parse.py.
"""

from __future__ import annotations

from lxml import etree

from harvester.markup import element_html
from harvester.parse_fields import (
    _abstract_sections,
    _article_ids,
    _authors,
    _children,
    _comments_corrections,
    _grants,
    _history,
    _history_date,
    _iso_date,
    _join_sections,
    _keywords,
    _mesh,
    _one,
    _other_abstracts,
    _pub_date,
    _secondary_ids,
    _t,
)
from index.article import Article, Author


class PubMedParseError(ValueError):
    """The body is not (or not all of) a PubMed ``<PubmedArticleSet>``; says what and where."""


def _pmid(el: etree._Element | None, name: str, record: etree._Element) -> str:
    pmid = _t(el)
    if not pmid:
        raise PubMedParseError(f"{name}: record without a PMID at line {record.sourceline}")
    return pmid


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
