"""Terminal rendering of results, records and snippets."""

from __future__ import annotations

from index.article import Article, Author
from search.render import render_article_text, render_hits_text, render_search_text, snippet_text
from search.searcher import Hit, SearchResponse


def _resp(**kw) -> SearchResponse:
    art = Article(pmid="123", title="Ketamine for TRD", pub_year=2020, journal_iso="J Psych",
                  authors=[Author(last="Smith", initials="J"), Author(last="Doe", initials="A"),
                           Author(last="Roe", initials="B"), Author(last="Poe", initials="C")],
                  doi="10.1/x", publication_types=["Journal Article", "Review"],
                  topics={"depression"}, retracted=True)
    base = dict(query="ketamine", total=41, page=2, per_page=20,
                hits=[Hit(art, 3.2, "low-dose <mark>ketamine</mark> &amp; placebo")],
                facets={"topic": {"depression": 40, "ptsd": 1}, "year": {"2020": 41},
                        "publication_type": {"Review": 5}})
    base.update(kw)
    return SearchResponse(**base)


def test_search_text_lists_hits_counts_and_facets() -> None:
    out = render_search_text(_resp(), color=False)
    assert "41 result(s) for 'ketamine' (showing 21-21, page 2 of 3)" in out
    assert " 21. Ketamine for TRD (2020) [RETRACTED]" in out
    assert "Smith J, Doe A, Roe B, et al. - J Psych" in out
    assert "PMID 123  doi:10.1/x  [Review; depression]" in out
    assert "low-dose ketamine & placebo" in out  # marks removed, entities decoded
    # labelled as the facet registry (index/registry.py) labels them on the page and in the API
    assert "Topic: depression (40), ptsd (1)" in out and "Publication year: 2020 (41)" in out
    assert "\x1b[" not in out


def test_color_marks_matches() -> None:
    out = render_search_text(_resp(), color=True)
    assert "\x1b[1m\x1b[33mketamine\x1b[0m" in out


def test_no_results_shows_the_suggestion() -> None:
    out = render_search_text(_resp(total=0, hits=[], facets={}, suggestion="ketamine"))
    assert out == "no results for 'ketamine'\ndid you mean: ketamine"


def test_snippet_text() -> None:
    assert snippet_text("a <mark>b</mark> &lt;c&gt;", color=False) == "a b <c>"


def test_hits_text_and_record_text() -> None:
    resp = _resp(page=1)
    assert render_hits_text(resp).startswith("41 record(s)\n\n  1. Ketamine for TRD")
    assert render_hits_text(_resp(hits=[], total=0)) == "no records"
    art = Article(pmid="9", title="T", abstract="BACKGROUND: x\nMETHODS: y", journal="J",
                  volume="3", issue="2", pages="10-12", pub_date="2010 Sep-Oct", pmcid="PMC1",
                  mesh=[], keywords=["k1", "k2"], retracted=True, retraction_pmids=["10"])
    text = render_article_text(art)
    assert "RETRACTED (retraction notice: PMID 10)" in text
    assert "Source: J. 2010 Sep-Oct; 3(2):10-12" in text
    assert "PMID: 9  PMCID: PMC1" in text and "Keywords: k1; k2" in text
    assert "BACKGROUND: x\n\nMETHODS: y" in text
    assert text.rstrip().endswith("METHODS: y")
