"""Which records an export writes, and writing them safely.

Three ways to choose (``ketlit export``):

- a QUERY with the search filters: the searcher's full result set (not a page of it), in the
  chosen order;
- ``--pmids FILE``: those records in the file's order (PMIDs one per line, or separated by spaces
  or commas; blank lines and ``#`` comments ignored); filters, when given, narrow the list. Every
  PMID must be in the index: otherwise one error names the missing ones and nothing is written;
- no query, only filters: the searcher's browse of the index (``--topic depression`` alone is the
  whole topic), newest first unless ``--sort oldest``, the same records and order as
  ``ketlit search --topic depression``;
- neither query nor filters: every record of the store, streamed in PMID order (or by date for
  newest/oldest); needs no index, so it also works while the index is rebuilt.

Articles are read from the record store in chunks of ``CHUNK`` and streamed to the exporter, so
memory stays flat however many records an export has; only the list of selected PMIDs is held.
``-o FILE`` is written to a temporary file beside it and renamed into place at the end, so an
error or an interrupt never leaves half a file (and never clobbers an older export).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from index.article import Article
from index.errors import IndexMissingError, InputFileError, NotFoundError, UsageError
from index.evidence import EVIDENCE_FILTER_KEYS
from index.progress import NullProgress, Progress, Task
from index.store import RecordStore
from search.export import get_format, write_export

CHUNK = 500
_FILTER_KEYS = ("topics", "year_from", "year_to", "types", "languages", "has_abstract",
                "exclude_retracted", *EVIDENCE_FILTER_KEYS)


# -- filters --------------------------------------------------------------------------------------

def _active(filters: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (filters or {}).items() if v not in (None, False, (), [], "")}




# -- --pmids FILE ---------------------------------------------------------------------------------

def read_pmids_file(path: Path) -> list[str]:
    """PMIDs in file order, de-duplicated; bad tokens are one error naming them and the lines."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"--pmids: {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"--pmids: cannot read {path}: {exc}") from None
    pmids: dict[str, None] = {}
    bad: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        for token in re.split(r"[\s,;]+", line):
            if not token:
                continue
            if token.isdigit() and len(token) <= 10 and int(token) > 0:
                pmids[str(int(token))] = None
            else:
                bad.append(f"{token!r} (line {lineno})")
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise InputFileError(f"--pmids: {path}: not a PMID: {shown}; give numeric PMIDs, one per "
                             "line or separated by spaces or commas")
    if not pmids:
        raise InputFileError(f"--pmids: {path} lists no PMIDs")
    return list(pmids)


def _check_present(store: RecordStore, pmids: list[str]) -> None:
    missing: list[str] = []
    for i in range(0, len(pmids), CHUNK):
        chunk = pmids[i:i + CHUNK]
        found = store.get_many(chunk)
        missing.extend(p for p in chunk if p not in found)
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more"
                                           if len(missing) > 10 else "")
        noun = "PMID" if len(missing) == 1 else "PMIDs"
        raise NotFoundError(f"export: {noun} not in the index: {shown}; harvest or ingest "
                            "them first, or remove them from the --pmids file (nothing written)")


# -- streaming articles ---------------------------------------------------------------------------

def iter_articles(store: RecordStore, pmids: Iterable[str]) -> Iterator[Article]:
    """Articles for ``pmids`` in that order, fetched CHUNK at a time; missing ones skipped."""
    chunk: list[str] = []

    def flush() -> Iterator[Article]:
        found = store.get_many(chunk)
        for p in chunk:
            art = found.get(p)
            if art is not None:
                yield art

    for pmid in pmids:
        chunk.append(pmid)
        if len(chunk) >= CHUNK:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


def _every_article(store: RecordStore, sort: str) -> Iterator[Article]:
    """Every stored record, without the index: one streaming pass in PMID order, or - for
    newest/oldest - a first pass collecting (date, PMID) keys, then the records in that order."""
    if sort not in ("newest", "oldest"):
        yield from store.iter_articles(batch=CHUNK)
        return
    keyed: list[tuple[str, int, str]] = []
    for art in store.iter_articles(batch=CHUNK):
        keyed.append((art.entrez_date or f"{art.pub_year or 0:04d}", int(art.pmid), art.pmid))
    keyed.sort(reverse=(sort == "newest"))
    yield from iter_articles(store, (p for _, _, p in keyed))


def _query_pmids(settings: Any, query: str, sort: str, filters: dict[str, Any],
                 rank: str | None = None) -> list[str]:
    from search.searcher import SearchRequest, open_searcher

    kwargs = {k: filters[k] for k in _FILTER_KEYS if k in filters}
    with open_searcher(settings) as searcher:
        return list(searcher.iter_matching_pmids(SearchRequest(query=query, sort=sort, rank=rank,
                                                                   **kwargs)))


# -- output ---------------------------------------------------------------------------------------

def _write_atomically(output: Path, fmt: str, articles: Iterable[Article]) -> int:
    output = Path(output)
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"-o {output}: directory {directory} does not exist")
    # a fresh name in the same directory (so the rename is atomic), created with "x" so it
    # gets the user's umask like any file they write, and never overwrites anything
    tmp = directory / f".{output.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as out:
            n = write_export(articles, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def _write_stdout(fmt: str, articles: Iterable[Article]) -> int:
    # UTF-8 whatever the locale says (an export must not die on "Müller" under LANG=C), and no
    # newline translation: each format writes the line ends its specification asks for.
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a text-only stream (tests, embedding)
        return write_export(articles, fmt, sys.stdout)
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=False)
    try:
        return write_export(articles, fmt, out)
    finally:
        out.flush()
        out.detach()


# -- entry point ----------------------------------------------------------------------------------

def export_selection(settings: Any, *, fmt: str, query: str | None = None,
                     pmids_file: Path | None = None, filters: dict[str, Any] | None = None,
                     sort: str = "relevance", output: Path | None = None,
                     rank: str | None = None,
                     progress: Progress | None = None) -> int:
    """Write the selected records in ``fmt`` to ``output`` (atomically) or stdout; returns the
    number written. ``progress`` is told each record written."""
    get_format(fmt)  # unknown format: fail before touching anything
    active = _active(filters)
    query = query.strip() if query else None
    if query and pmids_file is not None:
        raise UsageError("export: give a QUERY or --pmids FILE, not both")
    pmid_list = read_pmids_file(pmids_file) if pmids_file is not None else None
    if not Path(settings.store_path).exists():
        raise IndexMissingError("export: the index is empty; fill it with `ketlit harvest` "
                                "(or `ketlit ingest FILE`) first")
    store = RecordStore(settings.store_path, readonly=True)
    try:
        # Filters always go through the searcher (an empty query browses them), so they mean
        # exactly what `ketlit search` makes of them: aliases, topics, years, types.
        if pmid_list is not None:
            _check_present(store, pmid_list)
            if active:
                allowed = set(_query_pmids(settings, "", sort, active))
                pmid_list = [p for p in pmid_list if p in allowed]
            total: int | None = len(pmid_list)
            articles = iter_articles(store, pmid_list)
        elif query or active:
            ids = list(_query_pmids(settings, query or "", sort, active, rank))
            total = len(ids)
            articles = iter_articles(store, ids)
        else:
            total = store.count()
            articles = _every_article(store, sort)
        with (progress or NullProgress()).task("export", total) as task:
            counted = _counted(articles, task)
            if output is not None:
                return _write_atomically(output, fmt, counted)
            return _write_stdout(fmt, counted)
    finally:
        store.close()


def _counted(articles: Iterable[Article], task: Task) -> Iterator[Article]:
    for art in articles:
        yield art
        task.advance()
