"""Searching the indexed sample: hits from the store, filters, facets, paging, sorting,
snippets, similar, new, did-you-mean, concurrency with a committing writer."""

from __future__ import annotations

import html
import multiprocessing
import re
import shutil
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from index.article import Article
from index.errors import IndexMissingError, NotFoundError, QueryError, UsageError
from index.settings import Settings
from index.store import RecordStore
from index.whoosh.writer import open_index_writer, rebuild_index
from search.searcher import Searcher, SearchRequest, open_searcher


@pytest.fixture(scope="module")
def searcher(indexed_settings: Settings):
    with open_searcher(indexed_settings) as s:
        yield s


def pmids(resp) -> list[str]:
    return [h.article.pmid for h in resp.hits]


def search(s: Searcher, query: str, **kw) -> object:
    return s.search(SearchRequest(query=query, **kw))


def test_all_terms_required_by_default_any_with_match_any(searcher: Searcher) -> None:
    both = search(searcher, "ketamine obsessions")
    assert pmids(both) == ["90000004"]
    anyr = search(searcher, "ketamine obsessions", match="any")
    assert anyr.total > both.total
    assert pmids(anyr)[0] == "90000004"  # the record with both words ranks first


def test_hits_are_store_articles_with_scores(searcher: Searcher) -> None:
    resp = search(searcher, "esketamine")
    hit = resp.hits[0]
    assert isinstance(hit.article, Article) and hit.article.pmid == "90000001"
    assert hit.article.topics == {"depression"}
    assert hit.score and hit.score > 0


@pytest.mark.parametrize(("query", "expected"), [
    ("PTSD", {"90000003"}),                     # written out in the record
    ("OCD", {"90000004"}),
    ("TRD", {"90000001"}),
    ("Spravato", {"90000001"}),
    ("arketamine", {"90000002"}),                # the record also says (R)-ketamine
    ("(R)-ketamine", {"90000002"}),
    ("HNK", {"90000002", "90000008"}),           # (2R,6R)-HNK and hydroxynorketamine
    ("5-HT2A", {"90000002"}), ("5HT2A", {"90000002"}),
    ("IL6", {"90000006"}), ("COVID19", {"90000006"}), ("TNF-alpha", {"90000006"}),
    ('"p < 0.05"', {"90000001"}), ("sjogren", {"90000008"}),
])
def test_biomedical_terms_and_synonyms_find_records(searcher: Searcher, query: str,
                                                    expected: set[str]) -> None:
    found = set(pmids(search(searcher, query, limit=50)))
    assert expected <= found, (query, found)


def test_field_tags_restrict_fields(searcher: Searcher) -> None:
    assert pmids(search(searcher, "Zarate[au]")) == ["90000001"]
    assert search(searcher, "esketamine[au]").total == 0
    assert "90000001" in pmids(search(searcher, "ketamine[mh]"))
    assert set(pmids(search(searcher, "ketamine randomized controlled trial[pt]"))) == \
        {"90000001", "90000003"}
    assert set(pmids(search(searcher, "ketamine rct[pt]"))) == {"90000001", "90000003"}
    assert pmids(search(searcher, "ketamine 2019:2020[dp]", sort="oldest")) == \
        ["90000001", "90000002"]
    assert pmids(search(searcher, "ketamine fre[la]")) == ["90000006"]


def test_filters(searcher: Searcher) -> None:
    base = search(searcher, "ketamine", limit=50)
    assert base.total == 7  # 90000008 says hydroxynorketamine only
    assert set(pmids(search(searcher, "ketamine", topics=["ptsd"]))) == {"90000003", "90000007"}
    assert set(pmids(search(searcher, "ketamine", year_from=2019, year_to=2020))) == \
        {"90000001", "90000002"}
    assert set(pmids(search(searcher, "ketamine", types=["rct"]))) == {"90000001", "90000003"}
    assert set(pmids(search(searcher, "ketamine", types=["meta-analysis"]))) == {"90000005"}
    assert set(pmids(search(searcher, "ketamine", languages=["french"]))) == {"90000006"}
    assert "90000007" not in pmids(search(searcher, "ketamine", has_abstract=True, limit=50))
    assert search(searcher, "ketamine", has_abstract=True).total == 6
    assert "90000005" not in pmids(search(searcher, "ketamine", exclude_retracted=True, limit=50))
    with pytest.raises(UsageError, match="no topic named 'nope'"):
        search(searcher, "ketamine", topics=["nope"])


def test_filters_do_not_change_the_ranking(searcher: Searcher) -> None:
    plain = search(searcher, "ketamine depression", match="any", limit=50)
    filtered = search(searcher, "ketamine depression", match="any", limit=50,
                      topics=["depression"])
    scores = {h.article.pmid: h.score for h in plain.hits}
    for h in filtered.hits:
        assert h.score == pytest.approx(scores[h.article.pmid])


def test_facets_count_the_whole_result_set_not_the_page(searcher: Searcher) -> None:
    resp = search(searcher, "ketamine", limit=2)
    assert len(resp.hits) == 2 and resp.total == 7
    assert resp.facets["topic"] == {"depression": 5, "ptsd": 2, "ocd": 1}
    assert sum(resp.facets["year"].values()) == 7
    assert resp.facets["publication_type"]["Randomized Controlled Trial"] == 2
    assert list(resp.facets["year"]) == sorted(resp.facets["year"], reverse=True)


def test_pagination_and_sorting(searcher: Searcher) -> None:
    newest = search(searcher, "ketamine", sort="newest", limit=3)
    assert pmids(newest) == ["90000006", "90000005", "90000002"]
    page2 = search(searcher, "ketamine", sort="newest", limit=3, page=2)
    assert pmids(page2) == ["90000001", "90000007", "90000003"]
    oldest = search(searcher, "ketamine", sort="oldest", limit=2)
    assert pmids(oldest) == ["90000004", "90000003"]
    beyond = search(searcher, "ketamine", limit=5, page=9)
    assert beyond.hits == [] and beyond.total == 7
    rel = search(searcher, "ketamine", limit=50)
    scores = [h.score for h in rel.hits]
    assert scores == sorted(scores, reverse=True)
    assert newest.hits[0].score is None


def test_snippets_mark_matches_and_escape_html(searcher: Searcher) -> None:
    resp = search(searcher, "interleukin ketamine")
    snip = resp.hits[0].snippet
    assert "<mark>" in snip and "</mark>" in snip
    marked = {m.lower() for m in re.findall(r"<mark>(.*?)</mark>", snip)}
    assert "ketamine" in marked
    # everything outside the marks is escaped text
    assert "<" not in re.sub(r"</?mark>", "", snip)
    assert html.unescape(re.sub(r"</?mark>", "", snip)).startswith("Interleukin-6")


def test_snippet_of_text_with_markup_characters_is_escaped(tmp_path: Path) -> None:
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": str(tmp_path / "d")}, tmp_path)
    art = Article(pmid="1", title="Ketamine <script>alert(1)</script> & co",
                  abstract="Dose <b>ketamine</b> at 0.5 mg/kg & more")
    store = RecordStore(s.store_path)
    store.upsert([art])
    store.close()
    rebuild_index(s)
    with open_searcher(s) as se:
        snip = se.search(SearchRequest(query="ketamine")).hits[0].snippet
    assert "<b>" not in snip and "&lt;b&gt;<mark>ketamine</mark>&lt;/b&gt;" in snip
    assert "&amp; more" in snip


def test_get_and_not_found(searcher: Searcher) -> None:
    assert searcher.get("90000003").title.startswith("Ketamine infusion")
    with pytest.raises(NotFoundError, match="no record with PMID 1"):
        searcher.get("1")


def test_similar(searcher: Searcher) -> None:
    resp = searcher.similar("90000002", limit=5)
    assert "90000002" not in pmids(resp)
    top3 = pmids(resp)[:3]
    assert {"90000001", "90000008", "90000005"} & set(top3), top3  # other ketamine records
    assert resp.to_json(short=True)["total"] == len(resp.hits)
    with pytest.raises(NotFoundError):
        searcher.similar("123")


def test_new_records(searcher: Searcher) -> None:
    resp = searcher.new_records()
    assert resp.total > 390  # everything entered after the recorded harvest start
    assert searcher.new_records(since=date(2999, 1, 1)).total == 0
    dep = searcher.new_records(since=date(2000, 1, 1), topic="ocd")
    assert pmids(dep) == ["90000004"]
    with pytest.raises(UsageError):
        searcher.new_records(topic="unknown")


def test_did_you_mean(searcher: Searcher) -> None:
    resp = search(searcher, "ketamime")
    assert resp.total == 0 and resp.suggestion == "ketamine"
    assert resp.to_json()["suggestion"] == "ketamine"
    resp = search(searcher, "qqqqzzzz")
    assert resp.total == 0 and resp.suggestion is None
    assert "suggestion" not in resp.to_json()
    # An acronym typed in capitals is meant as typed ("PTSD" once suggested "post").
    assert search(searcher, "PTSD", topics=["ocd"]).suggestion is None
    # A query that finds something gets no suggestion.
    assert search(searcher, "ketamine").suggestion is None


def test_an_unknown_topic_is_an_error_listing_the_configured_ones(searcher: Searcher) -> None:
    with pytest.raises(UsageError, match=r"no topic named 'depresion'.*depression, ptsd, ocd"):
        search(searcher, "ketamine", topics=["depresion"])
    with pytest.raises(UsageError, match=r"no topic named 'nope'"):
        searcher.new_records(topic="nope")
    with pytest.raises(UsageError, match=r"no topic named 'nope'"):
        list(searcher.iter_matching_pmids(SearchRequest(query="", topics=["nope"])))


def test_search_json_has_the_design_shape(searcher: Searcher) -> None:
    data = search(searcher, "esketamine").to_json()
    assert set(data) == {"query", "total", "page", "per_page", "results", "facets"}
    r = data["results"][0]
    assert set(r) == {"pmid", "title", "authors", "journal", "year", "doi", "topics",
                      "publication_types", "retracted", "score", "snippet", "annotations"}
    # "annotations" (issue 16) is a compatible extension too: the evidence annotations
    assert r["authors"] == ["Zarate CA", "Smith J"] and r["year"] == 2019
    # The design's three groups, plus "retracted" and the evidence annotations' (issue 16),
    # compatible extensions.
    assert set(data["facets"]) == {"topic", "year", "publication_type", "retracted", "design",
                                   "route", "drug", "condition", "phase", "participants"}
    short = search(searcher, "esketamine").to_json(short=True)
    assert set(short) == {"total", "results"}


def test_bad_requests(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match="character 1"):
        search(searcher, "(ketamine")
    with pytest.raises(UsageError):
        search(searcher, "ketamine", limit=0)
    with pytest.raises(UsageError):
        search(searcher, "ketamine", sort="best")
    with pytest.raises(UsageError):
        search(searcher, "ketamine", year_from=2020, year_to=2010)


def test_iter_matching_pmids_returns_every_match_in_order(searcher: Searcher) -> None:
    req = SearchRequest(query="ketamine", sort="newest", limit=2)
    assert list(searcher.iter_matching_pmids(req)) == [
        "90000006", "90000005", "90000002", "90000001", "90000007", "90000003", "90000004"]


def test_open_searcher_without_index(tmp_path: Path) -> None:
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": str(tmp_path / "d")}, tmp_path)
    with pytest.raises(IndexMissingError, match="ketlit harvest"), open_searcher(s):
        pass
    with open_index_writer(s) as w:  # an index with nothing in it and an empty store
        w.upsert([])
    with pytest.raises(IndexMissingError, match="the index is empty"), open_searcher(s):
        pass


def _writer_process(data_dir: str, batches: int) -> None:
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": data_dir}, Path(data_dir))
    for b in range(batches):
        with open_index_writer(s) as w:
            w.upsert(Article(pmid=f"{b}-{i}", title=f"ketamine batch {b}",
                             abstract="ketamine " * 5) for i in range(40))


@pytest.mark.slow  # a writer in its own process
def test_searches_during_a_harvest_commit_see_whole_batches(tmp_path: Path,
                                                           indexed_settings: Settings) -> None:
    data = tmp_path / "data"
    shutil.copytree(indexed_settings.data_dir, data, symlinks=True)
    s = replace(indexed_settings, data_dir=data)
    with open_searcher(s) as se:
        base = se.search(SearchRequest(query="batch")).total
    assert base == 0
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_writer_process, args=(str(data), 8))
    proc.start()
    seen = []
    deadline = time.monotonic() + 120
    while proc.is_alive() and time.monotonic() < deadline:
        with open_searcher(s) as se:
            seen.append(se.search(SearchRequest(query="ketamine batch", limit=1)).total)
    proc.join(60)
    assert proc.exitcode == 0
    with open_searcher(s) as se:
        final = se.search(SearchRequest(query="ketamine batch")).total
    assert final == 320
    assert all(n % 40 == 0 for n in seen), seen


def test_multi_segment_index_with_deletions(tmp_path: Path) -> None:
    """Facets, filters and sorting read per-segment columns; deleted records never show."""
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": str(tmp_path / "d")}, tmp_path)
    store = RecordStore(s.store_path)
    for year in (2001, 2002, 2003):  # one commit, one segment per year
        arts = [Article(pmid=f"{year}{i}", title=f"ketamine study {i}", pub_year=year,
                        publication_types=["Review"] if i % 2 else ["Letter"],
                        topics={"depression"}) for i in range(4)]
        store.upsert(arts, extra_topics={"depression"})
        with open_index_writer(s) as w:
            w.upsert(arts)
    with open_index_writer(s) as w:
        w.delete(["20021", "20030"])
    store.delete(["20021", "20030"])
    store.close()
    with open_searcher(s) as se:
        resp = se.search(SearchRequest(query="ketamine", sort="newest", limit=20))
        assert resp.total == 10
        assert "20021" not in pmids(resp) and "20030" not in pmids(resp)
        assert resp.facets["year"] == {"2003": 3, "2002": 3, "2001": 4}
        assert resp.facets["publication_type"] == {"Letter": 5, "Review": 5}
        assert pmids(resp)[0].startswith("2003")
        assert se.search(SearchRequest(query="ketamine", year_from=2002, year_to=2002)).total == 3


def _cli_config(tmp_path: Path, settings: Settings) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {settings.data_dir}\ntopics:\n  depression: {{query: x}}\n"
                   "  ptsd: {query: y}\n  ocd: {query: z}\n", encoding="utf-8")
    return cfg


@pytest.mark.slow
def test_cli_search_show_similar_and_errors(tmp_path: Path, indexed_settings: Settings) -> None:
    import json

    from tests.helpers import run_ketlit

    cfg = _cli_config(tmp_path, indexed_settings)
    proc = run_ketlit(["search", "ketamine", "--type", "rct", "--json"], cfg, check=True)
    data = json.loads(proc.stdout)
    assert data["total"] == 2 and {r["pmid"] for r in data["results"]} == {"90000001", "90000003"}
    assert data["facets"]["publication_type"]["Randomized Controlled Trial"] == 2
    text = run_ketlit(["search", "esketamine"], cfg, check=True).stdout
    assert "2 result(s) for 'esketamine'" in text and "facets (all results):" in text
    bad = run_ketlit(["search", "ketamine AND (depression"], cfg)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == ("ketlit: query: unbalanced parenthesis ('(' never closed) at "
                                  "character 14 in 'ketamine AND (depression'")
    shown = json.loads(run_ketlit(["show", "90000002", "--json"], cfg, check=True).stdout)
    assert shown["pmid"] == "90000002" and shown["topics"] == ["depression"]
    missing = run_ketlit(["show", "1"], cfg)
    assert missing.returncode == 6 and "no record with PMID 1" in missing.stderr
    sim = json.loads(run_ketlit(["similar", "90000002", "--json"], cfg, check=True).stdout)
    assert set(sim) == {"total", "results"} and sim["total"] >= 1


@pytest.mark.slow
def test_cli_reindex_then_search(tmp_path: Path, indexed_settings: Settings) -> None:
    import json

    from tests.helpers import run_ketlit

    data = tmp_path / "data"
    shutil.copytree(indexed_settings.data_dir, data, symlinks=True)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {data}\n", encoding="utf-8")
    (data / "index").unlink()
    gone = run_ketlit(["search", "ketamine"], cfg)
    assert gone.returncode == 3 and "ketlit reindex" in gone.stderr
    out = run_ketlit(["reindex"], cfg, check=True)
    assert out.stdout.startswith("reindexed ")
    res = json.loads(run_ketlit(["search", "ketamine", "--json"], cfg, check=True).stdout)
    assert res["total"] == 7


def test_refresh_sees_new_commits(tmp_path: Path, indexed_settings: Settings) -> None:
    data = tmp_path / "data"
    shutil.copytree(indexed_settings.data_dir, data, symlinks=True)
    s = replace(indexed_settings, data_dir=data)
    with open_searcher(s) as se:
        assert se.search(SearchRequest(query="zebrafish")).total == 0
        store = RecordStore(s.store_path)
        art = Article(pmid="777", title="Ketamine in zebrafish")
        store.upsert([art])
        store.close()
        with open_index_writer(s) as w:
            w.upsert([art])
        assert se.search(SearchRequest(query="zebrafish")).total == 0  # its snapshot
        assert se.refresh() is True
        assert pmids(se.search(SearchRequest(query="zebrafish"))) == ["777"]
        assert se.refresh() is False


# -- browsing without words, the retracted facet ----------------------------------------------------

DEPRESSION_NEWEST = ["90000006", "90000005", "90000002", "90000001", "90000007", "90000008"]


@pytest.mark.parametrize("query", ["", "  ", "*"])
def test_empty_query_lists_the_filtered_records_newest_first(searcher: Searcher,
                                                             query: str) -> None:
    resp = search(searcher, query, topics=["depression"])
    assert pmids(resp) == DEPRESSION_NEWEST  # "relevance" means newest: nothing to rank by
    assert all(h.score is None for h in resp.hits)
    data = resp.to_json()
    assert data["total"] == 6 and all(r["score"] is None for r in data["results"])
    # facets over the browsed set, not over the whole index
    assert data["facets"]["topic"] == {"depression": 6, "ptsd": 1}
    assert data["facets"]["year"] == {"2022": 1, "2021": 1, "2020": 1, "2019": 1,
                                      "2018": 1, "2016": 1}
    oldest = search(searcher, query, topics=["depression"], sort="oldest", limit=2)
    assert pmids(oldest) == ["90000008", "90000007"] and oldest.total == 6


def test_empty_query_with_other_filters_and_without_any(searcher: Searcher) -> None:
    assert pmids(search(searcher, "", topics=["ocd"])) == ["90000004"]
    assert pmids(search(searcher, "", topics=["depression"], types=["rct"])) == ["90000001"]
    assert pmids(search(searcher, "", topics=["depression"], exclude_retracted=True)) == \
        [p for p in DEPRESSION_NEWEST if p != "90000005"]
    everything = search(searcher, "", limit=5)
    assert everything.total == searcher.doc_count
    assert sum(everything.facets["retracted"].values()) == searcher.doc_count
    assert everything.suggestion is None
    exported = list(searcher.iter_matching_pmids(SearchRequest(query="", topics=["depression"])))
    assert exported == DEPRESSION_NEWEST
    ranked = searcher.rank(SearchRequest(query="*", topics=["depression"], limit=2))
    assert ranked == [("90000006", None), ("90000005", None)]


def test_retracted_facet_counts_the_result_set(searcher: Searcher) -> None:
    resp = search(searcher, "ketamine", limit=100)
    retracted = sum(h.article.retracted for h in resp.hits)
    assert retracted >= 1
    assert resp.facets["retracted"] == {"true": retracted, "false": resp.total - retracted}
    assert resp.to_json()["facets"]["retracted"]["true"] == retracted
    without = search(searcher, "ketamine", exclude_retracted=True)
    assert without.facets["retracted"] == {"true": 0, "false": resp.total - retracted}
    assert search(searcher, "esketamine").facets["retracted"]["true"] == 0


@pytest.mark.slow
def test_cli_search_without_a_query_lists_the_filters(tmp_path: Path,
                                                       indexed_settings: Settings) -> None:
    import json

    from tests.helpers import run_ketlit

    cfg = _cli_config(tmp_path, indexed_settings)
    data = json.loads(run_ketlit(["search", "--topic", "depression", "--json"], cfg,
                                 check=True).stdout)
    assert [r["pmid"] for r in data["results"]] == DEPRESSION_NEWEST
    assert data["query"] == "" and data["facets"]["retracted"] == {"true": 1, "false": 5}
    text = run_ketlit(["search", "--topic", "ocd"], cfg, check=True).stdout
    assert text.startswith("1 result(s) for the filters")
    everything = json.loads(run_ketlit(["search", "--json", "--limit", "1"], cfg,
                                       check=True).stdout)
    assert everything["total"] > 6


def test_a_phrase_never_runs_from_a_title_into_its_abstract(tmp_path: Path) -> None:
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": str(tmp_path / "d")}, tmp_path)
    store = RecordStore(s.store_path)
    store.upsert([
        Article(pmid="1", title="Outcomes in major", abstract="Depression scores fell."),
        Article(pmid="2", title="Ketamine in major depression", abstract="Scores fell."),
        Article(pmid="3", title="Scores", abstract="In major depression, scores fell."),
    ])
    store.close()
    rebuild_index(s)
    with open_searcher(s) as se:
        assert sorted(pmids(se.search(SearchRequest(query='"major depression"')))) == ["2", "3"]
        # Even with a slop, the gap between parts is not bridged.
        assert "1" not in pmids(se.search(SearchRequest(query='"major depression"~20')))
        assert pmids(se.search(SearchRequest(query='"major depression"[ti]'))) == ["2"]


def test_a_search_past_its_time_budget_stops_with_a_clear_message(
        indexed_settings: Settings) -> None:
    from index.errors import SearchTimeoutError
    from index.settings import SearchSettings

    tight = replace(indexed_settings, search=SearchSettings(timeout_s=1e-9))
    with open_searcher(tight) as s, pytest.raises(SearchTimeoutError,
                                                  match=r"longer than .* search\.timeout_s"):
        s.search(SearchRequest(query="cancer OR thyroid"))


def test_hostile_query_shapes_are_refused_saying_where(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match=r"proximity ~999999999999 is above the maximum"):
        search(searcher, '"a b"~999999999999')
    with pytest.raises(QueryError, match=r"nested deeper than 32 levels at character 33"):
        search(searcher, "(" * 400 + "ketamine" + ")" * 400)
    assert search(searcher, '"ketamine depression"~100').total >= 0


def _small_index(tmp_path: Path, articles: list[Article]) -> Settings:
    from index.settings import settings_from_mapping

    s = settings_from_mapping({"data_dir": str(tmp_path / "d")}, tmp_path)
    with RecordStore(s.store_path) as store:
        store.upsert(articles)
    rebuild_index(s)
    return s


def test_a_vocabulary_expansion_never_outweighs_the_word_typed(tmp_path: Path) -> None:
    filler = " ".join(f"word{i}" for i in range(40))
    s = _small_index(tmp_path, [
        Article(pmid="1", title="Platelet serotonin in mood disorders", abstract=filler),
        Article(pmid="2", title="5-HT receptors", abstract="5-HT 5-HT 5-HT binding of 5-HT."),
        *[Article(pmid=str(10 + i), title=f"Unrelated record {i}", abstract=filler)
          for i in range(8)],
    ])
    with open_searcher(s) as se:
        for match in ("all", "any"):
            hits = pmids(se.search(SearchRequest(query="serotonin", match=match)))
            assert hits[:2] == ["1", "2"], match  # the expansion finds 2, ranked below 1


def test_match_any_counts_a_hyphenated_word_by_its_parts(tmp_path: Path) -> None:
    s = _small_index(tmp_path, [
        Article(pmid="1", title="A high-fat diet in mice"),
        Article(pmid="2", title="Dietary fat and mood"),
        Article(pmid="3", title="Plant-based diets"),
        *[Article(pmid=str(10 + i), title=f"Unrelated record {i}") for i in range(8)],
    ])
    with open_searcher(s) as se:
        anyw = pmids(se.search(SearchRequest(query="effects of a high-fat diet", match="any")))
        assert anyw[0] == "1" and "2" in anyw  # "fat" alone counts, below the whole word
        assert pmids(se.search(SearchRequest(query="high-fat"))) == ["1"]  # all: the word


@pytest.mark.slow
def test_a_search_past_its_time_budget_is_one_line_and_exit_2_at_the_cli(
        tmp_path: Path, indexed_settings: Settings) -> None:
    from tests.helpers import run_ketlit

    cfg = _cli_config(tmp_path, indexed_settings)
    cfg.write_text(cfg.read_text(encoding="utf-8") + "search: {timeout_s: 1.0e-9}\n",
                   encoding="utf-8")
    proc = run_ketlit(["search", "cancer OR thyroid"], cfg)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "search.timeout_s" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("args", [["search", "ketamine", "--topic", "depresion"],
                                  ["export", "ketamine", "--topic", "depresion", "--format", "ris"],
                                  ["new", "--topic", "depresion"]])
def test_an_unknown_topic_is_a_usage_error_at_the_cli(tmp_path: Path, indexed_settings: Settings,
                                                      args: list[str]) -> None:
    from tests.helpers import run_ketlit

    proc = run_ketlit(args, _cli_config(tmp_path, indexed_settings))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no topic named 'depresion'" in lines[0]
    assert "depression, ptsd, ocd" in lines[0] and not proc.stdout.strip()


def test_one_rerank_hook_serves_single_batch_and_export_searches(indexed_settings: Settings) -> None:
    from search.searcher import RERANK_WINDOW

    with Searcher(indexed_settings) as s:
        req = SearchRequest(query="ketamine", match="any", limit=2)
        plain = s.rank(SearchRequest(query="ketamine", match="any", limit=50))
        assert len(plain) >= 3
        seen: list[int] = []

        def reverse(_req: SearchRequest, ranked: list[tuple[str, float | None]]):
            seen.append(len(ranked))
            return list(reversed(ranked))

        s.rerankers.append(reverse)
        expected = [p for p, _ in reversed(plain)]
        assert [h.article.pmid for h in s.search(req).hits] == expected[:2]
        assert [p for p, _ in s.rank(req)] == expected[:2]
        assert list(s.iter_matching_pmids(req)) == expected
        assert all(n == len(plain) or n >= min(RERANK_WINDOW, len(plain)) for n in seen)
        # Date-sorted and browsing requests are not re-ranked.
        seen.clear()
        s.search(SearchRequest(query="ketamine", match="any", sort="newest"))
        s.search(SearchRequest(query="", limit=2))
        assert seen == []
