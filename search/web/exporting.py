"""Citation-list downloads for the API and the page.

The export is written to a spooled temporary file (memory up to a few MB, then disk) and that file
is streamed to the client. Writing it completely first means a bad PMID or a broken query is a
clean 4xx before the first byte goes out, rather than a download cut off half-way; spooling keeps
memory flat for a 100,000-record export.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import StreamingResponse

from index.article import Article
from index.errors import IndexMissingError, NotFoundError
from index.settings import Settings
from index.store import RecordStore
from search.web.searching import SharedSearcher

_CHUNK = 500
_SPOOL_MAX = 8 * 1024 * 1024
_STREAM_BLOCK = 64 * 1024


def formats() -> dict[str, tuple[str, str]]:
    """{format: (media type, file extension)} from the exporters."""
    from search.export import EXPORT_FORMATS

    return {name: (f.media_type, f.extension) for name, f in EXPORT_FORMATS.items()}


def openapi_content() -> dict[str, Any]:
    """The 200 response's media types, one per export format, for /openapi.json."""
    content: dict[str, Any] = {}
    for media_type, _ext in formats().values():
        base = media_type.split(";")[0].strip()
        # CSL-JSON is JSON (an array of CSL items); clients and validators parse it as such.
        schema: dict[str, Any] = ({"type": "array", "items": {"type": "object"}}
                                  if base.endswith("json") else {"type": "string"})
        content.setdefault(base, {"schema": schema})
    return content


def _open_store(settings: Settings) -> RecordStore:
    if not settings.store_path.exists():
        raise IndexMissingError(
            f"no records yet in {settings.data_dir}: run `ketlit harvest` or `ketlit ingest FILE`")
    return RecordStore(settings.store_path, readonly=True)


def _articles(store: RecordStore, pmids: list[str]) -> Iterator[Article]:
    for i in range(0, len(pmids), _CHUNK):
        chunk = pmids[i:i + _CHUNK]
        found = store.get_many(chunk)
        missing = [p for p in chunk if p not in found]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise NotFoundError(f"pmids: not in the index: {shown}")
        for pmid in chunk:
            yield found[pmid]


def export_pmids(settings: Settings, pmids: list[str], fmt: str) -> StreamingResponse:
    from search.export import write_export

    media_type, ext = formats()[fmt]
    # Not a with-block: the open file is handed to the response, which closes it when sent.
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX, mode="w+b")  # noqa: SIM115
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        with _open_store(settings) as store:
            n = write_export(_articles(store, pmids), fmt, text)
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    headers = {"Content-Disposition": f'attachment; filename="ketlit-{stamp}.{ext.lstrip(".")}"',
               "X-Ketlit-Records": str(n)}
    return StreamingResponse(_stream(spool), media_type=media_type, headers=headers)


def export_search(shared: SharedSearcher, settings: Settings, fmt: str, q: str, *, match: str,
                  sort: str, filters: dict[str, Any],
                  rank: str | None = None) -> StreamingResponse:
    from search.searcher import SearchRequest

    req = SearchRequest(query=q, match=match, sort=sort, limit=20, page=1, rank=rank,
                        **filters)
    with shared.use() as searcher:
        pmids = list(searcher.iter_matching_pmids(req))
    return export_pmids(settings, pmids, fmt)


def _stream(spool: Any) -> Iterator[bytes]:
    try:
        while block := spool.read(_STREAM_BLOCK):
            yield block
    finally:
        spool.close()
