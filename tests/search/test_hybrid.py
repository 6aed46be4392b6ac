"""Hybrid ranking (search/hybrid.py): BM25 fused with embedding cosines over the lexical top 100,
the nearest-by-embedding fallback, embeddings computed on the spot and cached, similar by
embedding, and the one-line refusal without the semantic extra."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.article import Article
from index.errors import UsageError
from index.settings import Settings, settings_from_mapping
from index.store import ORIGIN_INGEST, RecordStore
from index.whoosh.writer import rebuild_index
from search import hybrid
from search.hybrid import query_text
from search.searcher import Searcher, SearchRequest

needs_semantic = pytest.mark.skipif(not hybrid.available(),
                                    reason="hybrid ranking needs the semantic extra")

QUERY = "aspirin prevents heart attacks"
DOCS = {
    "1": ("Aspirin lowers the incidence of myocardial infarction",
          "In adults at cardiovascular risk, daily low-dose aspirin reduced myocardial "
          "infarction over five years."),
    "2": ("Aspirin allergy: heart rate and skin reactions",
          "Heart rate and attacks of urticaria were recorded during aspirin desensitisation."),
    "3": ("Prevents attacks of migraine: aspirin against placebo",
          "Aspirin prevents attacks of migraine in some patients."),
    "4": ("Aspirin and the stomach", "Bleeding ulcers in older adults taking aspirin."),
    "5": ("Gardening and heart health", None),  # no abstract: a title embedding
    "6": ("Ketamine infusion for treatment-resistant depression",
          "A single ketamine infusion rapidly reduced depressive symptoms."),
}


def _settings(base: Path, **search: object) -> Settings:
    raw: dict = {"data_dir": str(base / "data")}
    if search:
        raw["search"] = search
    return settings_from_mapping(raw, base)


@pytest.fixture()
def data(tmp_path: Path) -> Settings:
    settings = _settings(tmp_path)
    store = RecordStore(settings.store_path)
    try:
        with store.transaction():
            store.upsert([Article(pmid=p, title=t, abstract=a) for p, (t, a) in DOCS.items()],
                         origin=ORIGIN_INGEST)
    finally:
        store.close()
    rebuild_index(settings)
    return settings


def ranked(s: Searcher, query: str = QUERY, **kw: object) -> list[str]:
    return [p for p, _ in s.rank(SearchRequest(query=query, match="any", limit=100, **kw))]


def test_query_text_keeps_the_words_only() -> None:
    assert query_text('esketamine[tiab] AND "nasal spray" NOT rat') == "esketamine nasal spray"
    assert query_text("title:ketamine OR (ptsd)") == "ketamine ptsd"
    assert query_text("depress*") == "depress"


def test_config_key_chooses_the_default_rank(tmp_path: Path) -> None:
    assert _settings(tmp_path).search.rank == "lexical"
    assert _settings(tmp_path, rank="hybrid").search.rank == "hybrid"
    from index.errors import ConfigError

    with pytest.raises(ConfigError, match="search.rank"):
        _settings(tmp_path, rank="semantic")


def test_without_the_extra_hybrid_says_how_to_enable_it(data: Settings, monkeypatch) -> None:
    monkeypatch.setattr(hybrid, "available", lambda: False)
    with Searcher(data) as s, pytest.raises(UsageError, match=r"pip install -e '\.\[semantic\]'"):
        s.search(SearchRequest(query=QUERY, match="any", rank="hybrid"))
    with pytest.raises(UsageError, match="semantic"):
        hybrid.check_rank(None, _settings(data.data_dir.parent, rank="hybrid"))
    with Searcher(data) as s:  # lexical needs nothing
        assert s.search(SearchRequest(query=QUERY, match="any")).total == 5


def _tree(d: Path) -> list[tuple[str, int]]:
    return sorted((f.name, f.stat().st_mtime_ns) for f in d.glob("*")) if d.exists() else []


def test_lexical_is_unchanged_by_the_reranker(data: Settings) -> None:
    # The reindex that built the index may have embedded the records (index time, with the
    # extra installed); a lexical search must neither load nor write them.
    before = _tree(data.data_dir / "embeddings")
    with Searcher(data) as s:
        with_hook = s.rank(SearchRequest(query=QUERY, match="any", limit=100, rank="lexical"))
        s.rerankers.clear()
        without = s.rank(SearchRequest(query=QUERY, match="any", limit=100))
    assert with_hook == without
    assert _tree(data.data_dir / "embeddings") == before  # lexical loads and writes nothing


@needs_semantic
def test_hybrid_reorders_the_lexical_top_by_meaning(data: Settings) -> None:
    with Searcher(data) as s:
        lexical = ranked(s, rank="lexical")
        fused = ranked(s, rank="hybrid")
        s.hybrid.weight = 1.0  # cosine only: the paraphrase (myocardial infarction) first
        cosine = ranked(s, rank="hybrid")
    assert set(fused) == set(lexical)  # a re-rank of the same matches, nothing added
    assert lexical[0] != "1" and cosine[0] == "1"
    assert fused.index("1") < lexical.index("1")
    assert "6" not in fused


@needs_semantic
def test_search_json_scores_fall_with_rank(data: Settings) -> None:
    with Searcher(data) as s:
        resp = s.search(SearchRequest(query=QUERY, match="any", rank="hybrid"))
    scores = [h.score for h in resp.hits]
    assert resp.total == 5 and scores == sorted(scores, reverse=True)
    assert all(0.0 <= x <= 1.0 for x in scores)


@needs_semantic
def test_default_rank_comes_from_the_config(data: Settings) -> None:
    hyb = _settings(data.data_dir.parent, rank="hybrid")
    with Searcher(data) as s:
        fused = ranked(s, rank="hybrid")
    with Searcher(hyb) as s:
        assert ranked(s) == fused
        assert ranked(s, rank="lexical") != fused


@needs_semantic
def test_missing_embeddings_are_computed_then_cached(data: Settings) -> None:
    from index.embeddings.model import active_digest
    from index.embeddings.store import EmbeddingStore

    # Drop what the reindex embedded at index time: here the search has to make them itself.
    shutil.rmtree(data.data_dir / "embeddings", ignore_errors=True)
    with Searcher(data) as s:
        ranked(s, rank="hybrid")
    store = EmbeddingStore(data.data_dir / "embeddings", active_digest())
    assert sorted(store.pmids) == ["1", "2", "3", "4", "5"]  # the candidates, kept on close
    # A stored vector is used as it is: make record 4's the query's own and it ranks first.
    with Searcher(data) as s:
        qv = s.hybrid.embeddings.encode_query(QUERY)
        store.put(["4"], ["doctored"], qv[None])
        store.save()
        s.hybrid.weight = 1.0
        assert ranked(s, rank="hybrid")[0] == "4"


@needs_semantic
def test_no_lexical_match_falls_back_to_nearest_by_embedding(data: Settings) -> None:
    req = dict(query="myocardial infarction prevention trials", match="all")
    with Searcher(data) as s:
        assert s.search(SearchRequest(**req, rank="lexical")).total == 0
        resp = s.search(SearchRequest(**req, rank="hybrid", limit=3))
        batch = s.rank(SearchRequest(**req, rank="hybrid", limit=3))
    assert resp.total == len(DOCS) and [h.article.pmid for h in resp.hits][0] == "1"
    assert len(resp.hits) == 3 and [p for p, _ in batch] == [h.article.pmid for h in resp.hits]
    assert any("nearest" in n and "meaning" in n for n in resp.notices)


@needs_semantic
def test_fallback_keeps_the_filters(data: Settings) -> None:
    with Searcher(data) as s:
        resp = s.search(SearchRequest(query="myocardial infarction prevention trials",
                                      rank="hybrid", has_abstract=True))
    assert "5" not in {h.article.pmid for h in resp.hits} and resp.total == 5


@needs_semantic
def test_similar_uses_embeddings_when_they_cover_the_index(data: Settings) -> None:
    from index.embeddings.model import DIM, active_digest
    from index.embeddings.store import EmbeddingStore

    with Searcher(data) as s:
        lexical = [h.article.pmid for h in s.similar("6", limit=3).hits]
    # Crafted vectors: 6 is nearest to 5, then 4, whatever their words say.
    store = EmbeddingStore(data.data_dir / "embeddings", active_digest())
    vecs = np.zeros((len(DOCS), DIM), np.float32)
    for i, p in enumerate(DOCS):
        vecs[i, 0] = 1.0
        vecs[i, 1] = {"6": 0.0, "5": 0.1, "4": 0.3}.get(p, 2.0 + i)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.put(list(DOCS), [t for t, _ in DOCS.values()], vecs)
    store.save()
    with Searcher(data) as s:
        near = [h.article.pmid for h in s.similar("6", limit=3).hits]
    assert near[:2] == ["5", "4"] and "6" not in near and near != lexical[:3]


def test_query_vectors_are_cached_per_searcher(tmp_path: Path) -> None:
    class Counting:
        calls: list[str] = []

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls += texts
            return np.ones((len(texts), 4), np.float32) * len(self.calls)

    emb = hybrid.Embeddings(_settings(tmp_path))
    emb._embedder = Counting()  # type: ignore[assignment]
    first = emb.encode_query("ketamine")
    assert (emb.encode_query("ketamine") == first).all() and Counting.calls == ["ketamine"]
    for i in range(hybrid.QUERY_CACHE):  # pushes "ketamine" out (least recent first)
        emb.encode_query(f"q{i}")
    emb.encode_query("ketamine")
    assert Counting.calls.count("ketamine") == 2
    emb.forget_queries()
    emb.encode_query("ketamine")
    assert Counting.calls.count("ketamine") == 3
