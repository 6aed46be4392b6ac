"""Writes to and reads from ketlit's SolrCloud collection.

Writes: a session buffers upserts and deletes and sends them when it ends, then commits; only a
commit Solr acknowledged ends the session cleanly, so a harvest marks records indexed only after
Solr has them (a refused or unanswered update raises, and they stay flagged for the next run).
Reads: ids, scores, counts and facets in one request; every match streamed with cursorMark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from index.article import Article
from index.errors import IndexMissingError, IndexUnavailableError
from index.locks import writer_lock
from index.progress import NullProgress, Progress
from index.settings import Settings
from index.solr.client import SolrClient
from index.solr.collection import (
    check_schema,
    collection_exists,
    create_collection,
    delete_collection,
    ensure_collection,
    point_alias,
)
from index.solr.documents import article_to_solr
from index.store import RecordStore

UPDATE_BATCH = 500  # documents per update request
STREAM_ROWS = 1000  # ids per cursorMark page


class SolrIndex:
    """The configured collection (an alias), or ``collection``: a new one being filled."""

    def __init__(self, settings: Settings, collection: str | None = None) -> None:
        self.cfg = settings.index.solr
        self.collection = collection or self.cfg.collection
        self.client = SolrClient(self.cfg.urls, self.cfg.timeout_s)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> SolrIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the collection ------------------------------------------------------------------------

    def ensure(self) -> bool:
        return ensure_collection(self.client, self.cfg)

    def check_searchable(self, stored: int) -> None:
        """Raise IndexMissingError naming the remedy unless the collection can be searched."""
        if not collection_exists(self.client, self.collection):
            if stored == 0:
                raise IndexMissingError("the index is empty: run `ketlit harvest` or "
                                        "`ketlit ingest FILE` first")
            raise IndexMissingError(
                f"no Solr collection {self.collection!r} at {', '.join(self.cfg.urls)}: run "
                "`ketlit reindex` to build it from the stored records")
        check_schema(self.client, self.cfg)
        if self.count() == 0:
            if stored == 0:
                raise IndexMissingError("the index is empty: run `ketlit harvest` or "
                                        "`ketlit ingest FILE` first")
            raise IndexMissingError(
                f"the Solr collection {self.collection!r} holds none of the {stored} stored "
                "records: run `ketlit reindex`")

    # -- writing -------------------------------------------------------------------------------

    def add(self, docs: Sequence[dict[str, Any]]) -> None:
        for i in range(0, len(docs), UPDATE_BATCH):
            self._update(list(docs[i:i + UPDATE_BATCH]), commit=False)

    def delete(self, pmids: Sequence[str]) -> None:
        if pmids:
            self._update({"delete": list(pmids)}, commit=False)

    def commit(self) -> None:
        self._update({"commit": {}}, commit=False)

    def _update(self, body: Any, commit: bool) -> None:
        params = {"wt": "json", "commit": "true" if commit else "false"}
        answer = self.client.request("POST", f"{self.collection}/update", params=params,
                                     json_body=body, timeout_s=max(self.cfg.timeout_s, 60))
        status = answer.get("responseHeader", {}).get("status")
        if status != 0:
            raise IndexUnavailableError(
                f"Solr did not acknowledge an update of {self.collection!r} (status {status}); "
                "nothing was marked indexed: check the SolrCloud nodes and run the harvest again")

    # -- reading -------------------------------------------------------------------------------

    def select(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.client.request("POST", f"{self.collection}/select",
                                   data=_form({"wt": "json", **params}),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})

    def count(self, q: str = "*:*", fq: Sequence[str] = ()) -> int:
        answer = self.select({"q": q, "fq": list(fq), "rows": 0})
        return int(answer["response"]["numFound"])

    def stream_ids(self, q: str, fq: Sequence[str], sort: str) -> Iterator[str]:
        """Every matching pmid in ``sort`` order (which must end on pmid), page by page."""
        cursor = "*"
        while True:
            answer = self.select({"q": q, "fq": list(fq), "sort": sort, "rows": STREAM_ROWS,
                                  "fl": "pmid", "cursorMark": cursor})
            for doc in answer["response"]["docs"]:
                yield doc["pmid"]
            nxt = answer.get("nextCursorMark")
            if not nxt or nxt == cursor:
                return
            cursor = nxt

    def doc_frequencies(self, field: str, terms: Iterable[str]) -> dict[str, int]:
        """How many documents hold each of ``terms`` in ``field`` (over every shard)."""
        terms = list(dict.fromkeys(terms))
        out: dict[str, int] = {}
        for i in range(0, len(terms), 200):
            chunk = terms[i:i + 200]
            answer = self.client.request("POST", f"{self.collection}/terms", data=_form({
                "terms.fl": field, "terms.list": ",".join(t.replace(",", "\\,") for t in chunk),
                "terms.limit": -1, "wt": "json", "json.nl": "map"}),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            out.update({k: int(v) for k, v in answer.get("terms", {}).get(field, {}).items()})
        return out

    def terms_with_prefix(self, field: str, prefix: str, limit: int = 5000) -> dict[str, int]:
        answer = self.client.request("GET", f"{self.collection}/terms", params={
            "terms.fl": field, "terms.prefix": prefix, "terms.limit": limit, "wt": "json",
            "json.nl": "map"})
        return {k: int(v) for k, v in answer.get("terms", {}).get(field, {}).items()}


def _form(params: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in params.items():
        for item in v if isinstance(v, list) else [v]:
            out.append((k, str(item)))
    return out


class SolrSession:
    """The Solr face of index.whoosh.writer.IndexSession: upserts and deletes sent at the end, then a
    commit; counts as IndexSession's."""

    def __init__(self, index: SolrIndex) -> None:
        self._index = index
        self._docs: dict[str, dict[str, Any]] = {}
        self._deletes: dict[str, None] = {}
        self.upserted = 0
        self.deleted = 0

    def upsert(self, articles: Iterable[Article],
               analysis: Callable[[Article], Any] | None = None) -> None:
        for article in articles:
            self._deletes.pop(article.pmid, None)
            self._docs[article.pmid] = article_to_solr(article)
            self.upserted += 1

    def delete(self, pmids: Iterable[str]) -> None:
        for pmid in pmids:
            self._docs.pop(pmid, None)
            self._deletes[pmid] = None
            self.deleted += 1

    def flush(self) -> None:
        self._index.delete(list(self._deletes))
        self._index.add(list(self._docs.values()))
        self._index.commit()
        self._docs.clear()
        self._deletes.clear()


@contextlib.contextmanager
def open_solr_writer(settings: Settings, timeout: float = 60) -> Iterator[SolrSession]:
    """Creates the collection when missing; sends and commits when the block ends cleanly.
    Holds the same writer lock as the Whoosh writer, so a reindex's catch-up and alias switch
    never miss a harvest's batch."""
    with writer_lock(settings, timeout), SolrIndex(settings) as index:
        index.ensure()
        session = SolrSession(index)
        yield session
        session.flush()


def check_solr_writable(settings: Settings) -> None:
    with SolrIndex(settings) as index:
        index.ensure()


class SolrWritableIndex:
    """The Catalog's view of the SolrCloud collection (index.catalog.WritableIndex)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check_writable(self) -> None:
        check_solr_writable(self.settings)

    def session(self, timeout: float = 60) -> contextlib.AbstractContextManager[SolrSession]:
        return open_solr_writer(self.settings, timeout)

    def rebuild(self, store: RecordStore, progress: Progress) -> int:
        return rebuild_solr(self.settings, store, progress)


def rebuild_solr(settings: Settings, store: RecordStore, progress: Progress | None = None) -> int:
    """``ketlit reindex`` with Solr: a new collection (this ketlit's configset) filled from the
    record store while searches go on in the old one; records harvested meanwhile are applied
    again under the writer lock, then the alias moves over and the old collection is deleted."""
    with SolrIndex(settings) as alias:
        real = create_collection(alias.client, alias.cfg)
        try:
            with SolrIndex(settings, collection=real) as index:
                started = store.rebuild_started()
                indexed = _fill(index, store, progress or NullProgress())
                with writer_lock(settings, 600):
                    _catch_up(index, store, started, indexed)
                    point_alias(alias.client, alias.cfg, real)
        except BaseException:
            with contextlib.suppress(Exception):
                delete_collection(alias.client, alias.cfg, real)
            raise
    store.mark_indexed(indexed)
    return len(set(indexed))


def _fill(index: SolrIndex, store: RecordStore, progress: Progress) -> list[str]:
    batch: list[dict[str, Any]] = []
    indexed: list[str] = []
    with progress.task("reindex", store.count()) as task:
        for article in store.iter_articles():
            batch.append(article_to_solr(article))
            indexed.append(article.pmid)
            if len(batch) >= UPDATE_BATCH:
                index.add(batch)
                task.advance(len(batch))
                batch = []
        index.add(batch)
        task.advance(len(batch))
    index.commit()
    return indexed


def _catch_up(index: SolrIndex, store: RecordStore, started: str, indexed: list[str]) -> None:
    changed = store.changed_since(started)
    gone = sorted(set(indexed) - store.pmids())
    if not changed and not gone:
        return
    arts = store.get_many(changed)
    index.add([article_to_solr(arts[p]) for p in changed if p in arts])
    indexed.extend(p for p in changed if p in arts)
    index.delete(gone)
    index.commit()
