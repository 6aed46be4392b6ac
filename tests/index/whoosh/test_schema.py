"""Article -> Whoosh document mapping."""

from __future__ import annotations

import bisect
import dataclasses

import pytest
from whoosh import fields, formats

from index.article import Article, Author, MeshHeading
from index.whoosh.analysis import biomed_analyzer
from index.whoosh.schema import (
    ANALYSED_FIELDS,
    SCHEMA_VERSION,
    TEXT_PART_GAP,
    PreAnalysed,
    accepts_analysed,
    article_to_document,
    build_schema,
    facet_key,
    parse_facet_key,
    sort_date,
)
from tests.helpers import EFETCH_XML


def _article() -> Article:
    return Article(
        pmid="1", title="Ketamine for TRD", abstract="Text.",
        authors=[Author(last="Smith", fore="Jane", initials="J"), Author(collective="KET Group")],
        journal="Journal of Things", journal_iso="J Things", pub_year=2020,
        epub_date="2020-05-06", entrez_date="2020-04-01", languages=["eng"],
        publication_types=["Journal Article", "Clinical Trial, Phase II"],
        mesh=[MeshHeading("Ketamine", True, (("therapeutic use", False),))],
        keywords=["esketamine"], chemicals=["Ketamine"], topics={"ptsd", "depression"})


def test_document_fields_cover_every_searchable_part() -> None:
    doc = article_to_document(_article())
    schema = build_schema()
    assert set(doc) <= set(schema.names())
    assert doc["pmid"] == "1"
    assert "Smith J" in doc["author"] and "Smith Jane" in doc["author"]
    assert "KET Group" in doc["author"]
    assert "therapeutic use" in doc["mesh"]
    assert "esketamine" in doc["keywords"] and "Ketamine" in doc["keywords"]
    for part in ("Ketamine for TRD", "Text.", "esketamine", "therapeutic use"):
        assert part in doc["text"]
    assert doc["topic"] == "depression,ptsd"
    # A comma inside a publication type must not split it into two keywords.
    assert doc["pubtype"].split(",") == ["Journal Article", "Clinical Trial  Phase II"]
    assert doc["hasabs"] is True and doc["year"] == 2020


def test_missing_values_stay_out_of_the_document() -> None:
    doc = article_to_document(Article(pmid="2"))
    assert "year" not in doc
    assert doc["hasabs"] is False and doc["date"] == 0
    assert doc["title"] == ""


def test_sort_date_prefers_the_electronic_date() -> None:
    assert sort_date(_article()) == 20200506
    assert sort_date(Article(pmid="3", entrez_date="2019-01-02")) == 20190102
    assert sort_date(Article(pmid="4", pub_year=2001)) == 20010101


def test_facet_key_round_trips() -> None:
    art = _article()
    parsed = parse_facet_key(facet_key(art))
    assert (parsed["year"], parsed["topic"], parsed["publication_type"]) == (
        ("2020",), ("depression", "ptsd"), ("Journal Article", "Clinical Trial, Phase II"))
    empty = parse_facet_key(facet_key(Article(pmid="5")))
    assert empty["year"] == empty["topic"] == empty["design"] == ()
    assert empty["participants"] == ("unknown",)


def test_evidence_annotations_reach_facets_keys_and_participants() -> None:
    from tests.search.evidence_records import ann

    art = _article()
    art.annotations = ann(["rct"], ["intranasal"], ["esketamine", "ketamine"], ["ptsd"], 120,
                          ["phase-2"])
    parsed = parse_facet_key(facet_key(art))
    assert parsed["design"] == ("rct",) and parsed["drug"] == ("esketamine", "ketamine")
    assert parsed["participants"] == ("100-499",)
    doc = article_to_document(art)
    assert "design:rct" in doc["keys"].split("\x1e") and doc["participants"] == 120


def test_schema_version_is_an_int() -> None:
    assert isinstance(SCHEMA_VERSION, int) and SCHEMA_VERSION >= 1


# -- the PreAnalysed fast path gives Whoosh's own postings ------------------------------------------

TRICKY = [
    Article(pmid="10", title="The 5-HT2A receptor and (R)-ketamine: IL-6, TNF-α and p < 0.05",
            abstract="BACKGROUND: Ketamine's effects. RESULTS: (2R,6R)-HNK reduced IL-6 (P<.05); "
                     "post-traumatic stress disorder and Sjögren's syndrome, p ≤ 0.001. "
                     "Ketamine ketamine ketamine; randomised mice analyses. AIDS and SARS.",
            keywords=["esketamine", "treatment-resistant depression", "p"],
            chemicals=["N-methyl-D-aspartate"],
            mesh=[MeshHeading("Stress Disorders, Post-Traumatic", False,
                              (("drug therapy", True),))],
            authors=[Author(last="O'Brien", fore="Ann-Marie", initials="AM")],
            journal="J Psychopharmacol (Oxf)"),
    Article(pmid="11", title="of the and", abstract=None, keywords=["< 0.05"]),
    Article(pmid="12", title="", vernacular_title="Ketamin bei Depression — eine Übersicht",
            abstract="(−)-ketamine (+)-ketamine (S)-ketamine 0.5 mg/kg ×2 10.5% β-arrestin"),
    Article(pmid="13"),
]


def _postings(schema, doc: dict, name: str) -> list:
    if name == "text" and isinstance(doc[name], str):
        return _gapped_text_postings(schema, doc)
    return sorted(schema[name].index(doc[name]))


def _gapped_text_postings(schema, plain: dict) -> list:
    """What ``text`` should hold: Whoosh's analysis of the joined string, with each word's
    position moved TEXT_PART_GAP further per part (title, abstract, keywords, MeSH) before the
    part it came from, empty parts included."""
    parts = [plain[name] for name in ("title", "abstract", "keywords", "mesh")]
    starts: list[tuple[int, int]] = []  # (char offset in the joined string, part number)
    offset = 0
    for number, part in enumerate(parts):
        if part:
            starts.append((offset, number))
            offset += len(part) + len(" . ")
    assert " . ".join(x for x in parts if x) == plain["text"]
    table: dict[str, list[int]] = {}
    for t in schema["text"].analyzer(plain["text"], positions=True, chars=True, mode="index"):
        number = starts[bisect.bisect_right([c for c, _n in starts], t.startchar) - 1][1]
        table.setdefault(t.text, []).append(t.pos + TEXT_PART_GAP * number)
    fmt = formats.Positions()
    return sorted((w.encode("utf-8"), len(ps), float(len(ps)), fmt.encode(ps))
                  for w, ps in table.items())


@pytest.mark.parametrize("article", TRICKY, ids=[a.pmid for a in TRICKY])
def test_analysed_fields_equal_whoosh_analysis_of_the_strings(article: Article) -> None:
    schema = build_schema()
    plain = article_to_document(article)
    fast = article_to_document(article, analysed=True)
    assert set(plain) == set(fast)
    for name in ANALYSED_FIELDS:
        assert isinstance(fast[name], PreAnalysed)
        assert _postings(schema, fast, name) == _postings(schema, plain, name), name
    # The fields Whoosh analyses itself are unchanged.
    for name in set(plain) - set(ANALYSED_FIELDS):
        assert fast[name] == plain[name]


def test_analysed_fields_equal_whoosh_analysis_on_real_records() -> None:
    from harvester.parse import iter_pubmed

    schema = build_schema()
    checked = 0
    for path in sorted(EFETCH_XML.rglob("*.xml")):
        for article in iter_pubmed(path):
            if not isinstance(article, Article):
                continue
            plain = article_to_document(article)
            fast = article_to_document(article, analysed=True)
            for name in ANALYSED_FIELDS:
                assert _postings(schema, fast, name) == _postings(schema, plain, name), \
                    (article.pmid, name)
            checked += 1
    assert checked > 50


def test_text_field_parts_lie_a_gap_apart() -> None:
    # title "alpha beta" (positions 0-1), abstract "gamma beta" (2-3 in the joined string, moved
    # one gap on): "beta gamma" is no phrase of this record.
    doc = article_to_document(Article(pmid="1", title="alpha beta", abstract="gamma beta"),
                              analysed=True)
    fmt = build_schema()["text"].format
    by_term = {t: fmt.decode_positions(v) for t, _f, _w, v in doc["text"]}
    gap = TEXT_PART_GAP
    assert by_term[b"beta"] == [1, gap + 3] and by_term[b"gamma"] == [gap + 2]


def test_plain_text_schema_is_not_taken_for_an_analysed_one() -> None:
    schema = build_schema()
    assert accepts_analysed(schema)
    schema.remove("text")
    schema.add("text", fields.TEXT(analyzer=biomed_analyzer(), phrase=True))
    assert not accepts_analysed(schema)


def test_an_analysis_made_beforehand_is_used_only_while_the_text_is_unchanged() -> None:
    from index.whoosh.schema import Analysis, analyse

    article = Article(pmid="1", title="ketamine infusion", abstract="rapid antidepressant effect",
                      keywords=["esketamine"])
    before = analyse(article)
    assert article_to_document(article, True, before) == article_to_document(article, True)
    # Postings carrying the article's digest are taken as they are (this is what saves the
    # writer the work)...
    marker = PreAnalysed([(b"marker", 1, 1.0, b"")])
    taken = article_to_document(article, True, Analysis(before.digest, {"title": marker}))
    assert taken["title"] is marker
    # ...but once the text differs from what was analysed, the writer analyses it again.
    for change in ({"title": "ketamine infusion revised"}, {"abstract": None},
                   {"keywords": ["esketamine", "nasal spray"]}, {"journal": "JAMA"}):
        changed = dataclasses.replace(article, **change)
        doc = article_to_document(changed, True, Analysis(before.digest, {"title": marker}))
        assert doc["title"] is not marker, change
        assert doc == article_to_document(changed, True)
