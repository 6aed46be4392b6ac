"""Embeddings at index time: the processor embeds new and changed records, drops deleted ones,
re-embeds only what is missing or stale at reindex, and rebuilds a corrupt store."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

import index.embeddings as embeddings
from index.article import Article
from index.catalog import Catalog, default_processors
from index.embeddings.model import record_text
from index.embeddings.processor import EmbeddingProcessor, embedding_processor
from index.embeddings.store import EmbeddingStore
from index.progress import NullProgress
from index.settings import Settings, settings_from_mapping
from index.store import RecordStore

DIGEST = "f" * 64
DIM = 384


class HashEncoder:
    """A deterministic stand-in for the model (a unit vector from the text's hash) that records
    what it was asked to embed, so the tests see exactly which records were (re-)embedded."""

    digest = DIGEST

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        self.seen += texts
        out = np.zeros((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            seed = int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).standard_normal(DIM)
            out[i] = v / np.linalg.norm(v)
        return out


class Recorder:
    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None]] = []
        self.advanced = 0

    def task(self, label: str, total: int | None = None, unit: str = "records") -> Recorder:
        self.tasks.append((label, total))
        return self

    def advance(self, n: int = 1) -> None:
        self.advanced += n

    def close(self) -> None:
        pass

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def art(pmid: str, title: str, abstract: str | None = None) -> Article:
    return Article(pmid=pmid, title=title, abstract=abstract, pub_year=2020)


def processor(tmp_path: Path, enc: HashEncoder, progress: Recorder | None = None,
              ) -> EmbeddingProcessor:
    return EmbeddingProcessor(tmp_path / "embeddings", progress=progress, encoder=lambda: enc)


def stored(tmp_path: Path) -> EmbeddingStore:
    return EmbeddingStore(tmp_path / "embeddings", DIGEST)


def test_committed_embeds_new_and_changed_records_only(tmp_path: Path) -> None:
    enc, rec = HashEncoder(), Recorder()
    p = processor(tmp_path, enc, rec)
    p.committed([art("1", "Ketamine", "An abstract."), art("2", "Title only")], [])
    p.close()
    assert enc.seen == ["Ketamine An abstract.", "Title only"]  # no abstract: the title alone
    assert rec.tasks == [("embedding", None)] and rec.advanced == 2
    s = stored(tmp_path)
    assert sorted(s.pmids) == ["1", "2"]
    np.testing.assert_allclose(s.get(["2"])[1], enc.encode(["Title only"]), atol=1e-3)

    enc.seen.clear()
    p = processor(tmp_path, enc)
    p.committed([art("1", "Ketamine", "An abstract."), art("2", "Title only", "New abstract.")],
                ["3"])
    p.committed([], ["1"])
    p.close()
    assert enc.seen == ["Title only New abstract."]  # 1 unchanged, 2 changed
    assert stored(tmp_path).pmids == ["2"]


def test_reindex_reembeds_only_missing_and_stale(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records.sqlite3")
    try:
        store.upsert([art("1", "One", "a"), art("2", "Two", "b"), art("3", "Three")])
        enc = HashEncoder()
        p = processor(tmp_path, enc)
        p.committed([art("1", "One", "a"), art("2", "Two (old text)"), art("9", "Gone")], [])
        p.close()
        enc.seen.clear()
        rec = Recorder()
        p = processor(tmp_path, enc)
        p.reindex(store, rec)
        p.close()
        assert sorted(enc.seen) == ["Three", "Two b"]
        assert rec.tasks == [("embedding", 2)] and rec.advanced == 2
        s = stored(tmp_path)
        assert sorted(s.pmids) == ["1", "2", "3"]  # 9 is no longer stored: dropped
        assert s.stale({a.pmid: record_text(a.title, a.abstract)
                        for a in store.iter_articles()}) == []
    finally:
        store.close()


def test_corrupt_store_is_moved_aside_and_rebuilt_in_one_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = stored(tmp_path).path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    p = processor(tmp_path, HashEncoder())
    with caplog.at_level(logging.WARNING, logger="ketlit.embeddings"):
        p.committed([art("1", "One")], [])
        p.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "corrupt embedding store" in warnings[0] and "moved" in warnings[0]
    assert stored(tmp_path).pmids == ["1"]


def test_save_every_bounds_what_a_crash_loses(tmp_path: Path) -> None:
    p = EmbeddingProcessor(tmp_path / "embeddings", encoder=HashEncoder, save_every=64)
    p.committed([art(str(i), f"Title {i}") for i in range(130)], [])
    # Not closed (a crash): the saves made along the way are on disk.
    assert len(stored(tmp_path)) == 128


def _settings(tmp_path: Path, **index: object) -> Settings:
    return settings_from_mapping({"data_dir": str(tmp_path / "data"), "index": index}, tmp_path)


def test_off_without_the_extra_or_when_configured_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert embedding_processor(_settings(tmp_path, embeddings=False)) is None
    monkeypatch.setattr(embeddings, "available", lambda: False)
    assert embedding_processor(_settings(tmp_path)) is None
    assert not any(isinstance(p, EmbeddingProcessor)
                   for p in default_processors(_settings(tmp_path)))


@pytest.mark.skipif(not embeddings.available(), reason="the semantic extra is not installed")
def test_catalog_writes_embeddings_beside_the_index(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = RecordStore(settings.store_path)
    try:
        with Catalog(settings, store, progress=NullProgress()) as catalog:
            assert any(isinstance(p, EmbeddingProcessor) for p in catalog.processors)
            catalog.upsert([art("1", "Esketamine nasal spray", "A randomized trial."),
                            art("2", "Ketamine for pain")])
    finally:
        store.close()
    from index.embeddings.model import active_digest

    s = EmbeddingStore(settings.embeddings_dir, active_digest())
    assert sorted(s.pmids) == ["1", "2"]
    vecs = s.get(["1", "2"])[1]
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-2)
