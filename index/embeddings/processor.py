"""Embeddings at index time: the per-record step that keeps the store beside the index current.

Harvest and ingest hand it the records the index has just committed (``committed``): it embeds
the new and changed ones (title + abstract; a record without abstract gets its title's vector),
drops the deleted ones, and saves every ``save_every`` vectors and at the end (``close``), so a
crash loses at most that many, which the next reindex re-embeds. ``ketlit reindex`` brings the
whole store up to date (``reindex``): it re-embeds only records whose vector is missing or was
made from other text, drops those no longer stored, and rebuilds a corrupt store.

Enabled when the semantic extra is installed and ``index.embeddings`` is true (the default);
otherwise :func:`embedding_processor` returns None and nothing changes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.article import Article
from index.catalog import RecordProcessor
from index.embeddings.store import EmbeddingStore
from index.progress import NullProgress, Progress, Task

log = logging.getLogger("ketlit.embeddings")

CHUNK = 64  # records per encode call: progress moves, memory stays small
SAVE_EVERY = 2000  # vectors between saves of the store during long work


class Encoder(Protocol):
    digest: str

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


def article_text(art: Article) -> str:
    from index.embeddings.model import record_text

    return record_text(art.title, art.abstract)


class EmbeddingProcessor(RecordProcessor):
    """A record processor (index/catalog.py's hooks: prepare, committed, reindex, close)."""

    name = "embeddings"

    def __init__(self, directory: Path, progress: Progress | None = None,
                 encoder: Callable[[], Encoder] | None = None,
                 save_every: int = SAVE_EVERY) -> None:
        self.directory = Path(directory)
        self.progress = progress or NullProgress()
        self._make_encoder = encoder or _default_encoder
        self._encoder: Encoder | None = None
        self._store: EmbeddingStore | None = None
        self.save_every = save_every
        self._unsaved = 0
        self._task: Task | None = None
        self.embedded = 0  # vectors computed in this run

    # -- lazily: loading the model costs seconds, and most write runs may need nothing ---------

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = self._make_encoder()
        return self._encoder

    @property
    def store(self) -> EmbeddingStore:
        if self._store is None:
            self._store = EmbeddingStore(self.directory, self.encoder.digest,
                                         rebuild_if_corrupt=True)
        return self._store

    # -- the hooks -----------------------------------------------------------------------------

    def prepare(self, articles: Sequence[Article]) -> None:
        """Nothing before storing: vectors go beside the index, not into the record."""

    def committed(self, upserted: Sequence[Article], deleted: Sequence[str]) -> None:
        if deleted:
            self.store.delete(list(deleted))
        if upserted:
            if self._task is None:
                self._task = self.progress.task("embedding")
            self._embed({a.pmid: article_text(a) for a in upserted}, self._task)

    def reindex(self, store: Any, progress: Progress | None = None) -> None:
        """Every stored record (``store``: index.store.RecordStore) gets a current vector."""
        progress = progress or self.progress
        items = {a.pmid: article_text(a) for a in store.iter_articles()}
        emb = self.store
        emb.keep_only(set(items))
        stale = emb.stale(items)
        if stale:
            with progress.task("embedding", total=len(stale)) as task:
                self._embed({p: items[p] for p in stale}, task)
        emb.save()
        self._unsaved = 0
        log.info("embeddings: %d stored, %d (re-)embedded", len(emb), len(stale))

    def close(self) -> None:
        if self._task is not None:
            self._task.close()
            self._task = None
        if self._store is not None and self._store.dirty:
            self._store.save()
            self._unsaved = 0

    # -- work ----------------------------------------------------------------------------------

    def _embed(self, items: dict[str, str], task: Task) -> None:
        emb = self.store
        todo = emb.stale(items)
        for chunk in _chunks(todo, CHUNK):
            texts = [items[p] for p in chunk]
            emb.put(chunk, texts, self.encoder.encode(texts))
            self.embedded += len(chunk)
            self._unsaved += len(chunk)
            task.advance(len(chunk))
            if self._unsaved >= self.save_every:
                emb.save()
                self._unsaved = 0


def _chunks(seq: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


@functools.lru_cache(maxsize=1)
def _default_encoder() -> Encoder:
    # One model per process: a server or a test run opens many write runs, and loading (digest
    # check, graph build) costs a second or two each time; the forward pass only reads it.
    from index.embeddings.model import Embedder

    return Embedder()


def embedding_processor(settings: Any, progress: Progress | None = None
                        ) -> EmbeddingProcessor | None:
    """The processor for ``settings`` (index.settings.Settings), or None when embeddings are
    off (``index.embeddings: false``) or the semantic extra is not installed."""
    from index.embeddings import available

    if not settings.index.embeddings or not available():
        return None
    return EmbeddingProcessor(settings.embeddings_dir, progress)
