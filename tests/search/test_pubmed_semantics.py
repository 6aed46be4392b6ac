"""PubMed's search habits give PubMed's answer on real records: truncation, tagged multi-word
terms, [majr], author initials, [si], [doi], subsets and full-date [dp] ranges.

The truth of every check is computed here from the efetch XML in ../shared/data with lxml, never
from ketlit's parser or index, so a mistake in either shows up as a difference.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from index.settings import Settings
from search.searcher import Searcher, SearchRequest, open_searcher

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _text(el: etree._Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def _records(efetch_files: list[Path]) -> Iterator[etree._Element]:
    """The current version of every PubmedArticle (the 2008 snapshot's copies left out)."""
    for path in efetch_files:
        if "biopython-2008" in path.parts:
            continue
        for _ev, el in etree.iterparse(str(path), tag="PubmedArticle", recover=True,
                                       resolve_entities=False):
            yield el


@pytest.fixture(scope="module")
def xml(efetch_files: list[Path]) -> dict[str, etree._Element]:
    out: dict[str, etree._Element] = {}
    for el in _records(efetch_files):
        out[el.findtext("MedlineCitation/PMID").strip()] = el
    return out


@pytest.fixture(scope="module")
def searcher(indexed_settings: Settings):
    with open_searcher(indexed_settings) as s:
        yield s


def found(s: Searcher, query: str, among: set[str]) -> set[str]:
    resp = s.search(SearchRequest(query=query, limit=5000))
    assert resp.total <= 5000
    return {h.article.pmid for h in resp.hits} & among


def _words(text: str) -> set[str]:
    """Words as a reader sees them: runs of letters and digits, and hyphenated words both
    joined and in parts."""
    out: set[str] = set()
    for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", _fold(text)):
        out.update(w.split("-"))
        out.add(w.replace("-", ""))
    return out


def _title(el: etree._Element) -> str:
    return _text(el.find("MedlineCitation/Article/ArticleTitle")) or \
        _text(el.find("MedlineCitation/Article/VernacularTitle"))


def _abstract(el: etree._Element) -> str:
    return " ".join(_text(a) for a in el.iterfind("MedlineCitation/Article/Abstract/AbstractText"))


@pytest.mark.parametrize("prefix", ["function", "suicid", "antidepress", "chang", "neuro",
                                    "random", "patient"])
def test_truncation_finds_every_record_with_a_word_of_that_prefix(
        searcher: Searcher, xml: dict[str, etree._Element], prefix: str) -> None:
    among = set(xml)
    in_title = {p for p, el in xml.items() if any(w.startswith(prefix) for w in _words(_title(el)))}
    in_abstract = {p for p, el in xml.items()
                   if any(w.startswith(prefix) for w in _words(_abstract(el)))}
    assert in_title | in_abstract, f"no record has a word starting with {prefix!r}"
    assert found(searcher, f"{prefix}*[ti]", among) == in_title
    assert found(searcher, f"{prefix}*[ab]", among) >= in_abstract
    # Without a tag: every record of the title or abstract (MeSH and keywords may add more).
    assert found(searcher, f"{prefix}*", among) >= in_title | in_abstract
    assert found(searcher, f"{prefix}*[tiab]", among) >= in_title | in_abstract


@pytest.mark.parametrize("query", ["functional*", "suicidal*", "antidepressant*", "change*[tiab]"])
def test_truncation_is_not_limited_to_words_that_are_stems(searcher: Searcher, query: str) -> None:
    # "functional" stems to "function", "suicidal" to "suicid": prefixes that are no stem (the
    # issue's examples, which found nothing) must still match the words that begin with them.
    assert searcher.search(SearchRequest(query=query)).total > 0


def test_truncation_past_pubmeds_600_variants_says_so(searcher: Searcher,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import index.whoosh.engine as engine

    monkeypatch.setattr(engine, "MAX_EXPANSIONS", 2)
    resp = searcher.search(SearchRequest(query="pat*"))
    assert resp.notices and "pat*" in resp.notices[0]
    assert resp.to_json()["notices"] == resp.notices
    monkeypatch.undo()
    assert not searcher.search(SearchRequest(query="pat*")).notices


def _headings(el: etree._Element) -> list[tuple[str, bool]]:
    """(descriptor, major) of each MeSH heading: major when the descriptor or a qualifier is."""
    out = []
    for mh in el.iterfind("MedlineCitation/MeshHeadingList/MeshHeading"):
        d = mh.find("DescriptorName")
        major = d.get("MajorTopicYN") == "Y" or any(
            q.get("MajorTopicYN") == "Y" for q in mh.iterfind("QualifierName"))
        out.append((_text(d), major))
    return out


def test_tagged_multi_word_headings_match_the_heading_exactly(
        searcher: Searcher, xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    counts: dict[str, int] = {}
    for el in xml.values():
        for d, _major in _headings(el):
            counts[d] = counts.get(d, 0) + 1
    multi = sorted((d for d in counts if " " in d and "," in d), key=lambda d: -counts[d])[:8]
    multi += sorted((d for d in counts if " " in d and "," not in d), key=lambda d: -counts[d])[:8]
    assert len(multi) >= 10
    for heading in multi:
        truth = {p for p, el in xml.items()
                 if any(d.lower() == heading.lower() for d, _m in _headings(el))}
        assert found(searcher, f"{heading}[mh]", among) == truth, heading
        assert found(searcher, f'"{heading}"[mh]', among) == truth, heading
        assert found(searcher, f"{heading.lower()}[mh:noexp]", among) == truth, heading
        major = {p for p, el in xml.items()
                 if any(d.lower() == heading.lower() and m for d, m in _headings(el))}
        assert found(searcher, f"{heading}[majr]", among) == major, heading


def test_majr_keeps_only_records_where_the_heading_is_major(
        searcher: Searcher, xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    checked = 0
    for heading in ("Humans", "Female", "Male", "Adult", "Animals", "Mice", "Brain",
                    "Neoplasms", "Depression", "Ketamine"):
        everyone = {p for p, el in xml.items() if any(d == heading for d, _m in _headings(el))}
        major = {p for p, el in xml.items() if any(d == heading and m for d, m in _headings(el))}
        assert found(searcher, f"{heading}[majr]", among) == major
        assert found(searcher, f"{heading}[mh]", among) == everyone
        checked += bool(everyone - major)
    assert checked >= 3  # the two differ somewhere, so [majr] is not ignored


def _authors(el: etree._Element) -> list[str]:
    out = []
    for a in el.iterfind("MedlineCitation/Article/AuthorList/Author"):
        last, initials = a.findtext("LastName"), a.findtext("Initials")
        if last:
            out.append(_fold(f"{last} {initials or ''}".strip()))
    return out


def test_author_with_fewer_initials_is_a_prefix(searcher: Searcher,
                                                xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    names = sorted({n for el in xml.values() for n in _authors(el)
                    if len(n.split()[-1]) >= 2 and len(n.split()) == 2})[:40]
    assert names
    for name in names:
        last, initials = name.split()
        short = f"{last} {initials[0]}"
        truth = {p for p, el in xml.items() if any(n.startswith(short) for n in _authors(el))}
        assert found(searcher, f"{last.title()} {initials[0].upper()}[au]", among) == truth, short
        exact = {p for p, el in xml.items() if any(n.startswith(name) for n in _authors(el))}
        assert found(searcher, f"{last} {initials.upper()}[au]", among) == exact, name


def test_secondary_source_ids_doi_and_subsets(searcher: Searcher,
                                              xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    banks = {}
    for p, el in xml.items():
        for acc in el.iterfind(".//DataBankList/DataBank/AccessionNumberList/AccessionNumber"):
            banks.setdefault(_text(acc).strip(), set()).add(p)
    assert banks
    for acc, truth in list(banks.items())[:10]:
        assert found(searcher, f"{acc}[si]", among) == truth, acc
    dois = {}
    for p, el in xml.items():
        for aid in el.iterfind("PubmedData/ArticleIdList/ArticleId[@IdType='doi']"):
            dois.setdefault(_text(aid).strip().lower(), set()).add(p)
    for doi, truth in list(dois.items())[:10]:
        assert found(searcher, f"{doi}[doi]", among) >= truth, doi
    with_abstract = {p for p, el in xml.items() if _abstract(el).strip()}
    assert found(searcher, "hasabstract", among) == with_abstract
    assert found(searcher, "NOT hasabstract", among) == among - with_abstract
    pmc = {p for p, el in xml.items()
           if el.find("PubmedData/ArticleIdList/ArticleId[@IdType='pmc']") is not None}
    assert pmc
    assert found(searcher, "free full text[sb]", among) == pmc


def _pub_date(el: etree._Element) -> int | None:
    """PubDate's first day as YYYYMMDD (Year/Month/Day, or a MedlineDate's first year and month)."""
    pd = el.find("MedlineCitation/Article/Journal/JournalIssue/PubDate")
    if pd is None:
        return None
    year, month, day = pd.findtext("Year"), pd.findtext("Month"), pd.findtext("Day")
    if year is None:
        m = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", pd.findtext("MedlineDate") or "")
        if not m:
            return None
        year, month, day = m.group(1), m.group(2), None
    mo = 1
    if month:
        mo = int(month) if month.isdigit() else MONTHS.get(month[:3].lower(), 1)
    d = int(day) if day and day.isdigit() and month else 1
    return int(year) * 10000 + mo * 100 + d


@pytest.mark.parametrize(("query", "lo", "hi"), [
    ("2018/01/01:2020/12/31[dp]", 20180101, 20201231),
    ('"2018/01/01"[dp] : "2020/12/31"[dp]', 20180101, 20201231),
    ("2019/03[dp]", 20190301, 20190331),
    ("2015/06/15:2017/02/01[dp]", 20150615, 20170201),
    ("2000:2010[dp]", 20000101, 20101231),
])
def test_full_date_ranges_use_the_publication_date(
        searcher: Searcher, xml: dict[str, etree._Element], query: str, lo: int, hi: int) -> None:
    among = set(xml)
    truth = {p for p, el in xml.items() if (d := _pub_date(el)) and lo <= d <= hi}
    assert truth
    assert found(searcher, query, among) == truth


def test_year_and_full_date_ranges_agree(searcher: Searcher,
                                         xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    assert found(searcher, "2018:2020[dp]", among) == \
        found(searcher, "2018/01/01:2020/12/31[dp]", among)


def test_publication_types_compare_without_case(searcher: Searcher,
                                                xml: dict[str, etree._Element]) -> None:
    among = set(xml)
    truth = {p for p, el in xml.items() if any(
        _text(t).lower() == "journal article"
        for t in el.iterfind("MedlineCitation/Article/PublicationTypeList/PublicationType"))}
    assert found(searcher, "journal article[pt]", among) == truth
    assert found(searcher, "JOURNAL ARTICLE[pt]", among) == truth
    facet = searcher.search(SearchRequest(query="", limit=1)).facets["publication_type"]
    assert "JOURNAL ARTICLE" not in facet and facet.get("Journal Article", 0) >= len(truth)


def test_an_unknown_tag_or_subset_lists_the_known_ones(searcher: Searcher) -> None:
    from index.errors import QueryError

    with pytest.raises(QueryError, match=r"unknown field tag \[xx\].*majr.*sb"):
        searcher.search(SearchRequest(query="ketamine[xx]"))
    with pytest.raises(QueryError, match=r"unknown subset.*free full text"):
        searcher.search(SearchRequest(query="nonsense[sb]"))
