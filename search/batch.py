"""Batch mode: one query per line of a ``qid<TAB>query`` file, answered as a TREC run or JSONL.

The whole file is read first: a line that is not ``qid<TAB>query`` fails the run before any
output. A query that cannot be searched fails only its own qid (reported on stderr with its line);
every other query is answered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from index.errors import QueryError, SearchTimeoutError, UsageError
from search.searcher import Searcher, SearchRequest

RUN_TAG = "ketlit"


def read_batch_file(path: Path) -> list[tuple[int, str, str]]:
    """(line number, qid, query) for every non-blank line; '#' starts a comment line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"--batch: {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--batch: cannot read {path}: {exc}") from None
    items: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        qid, tab, query = line.partition("\t")
        qid, query = qid.strip(), query.strip()
        if not tab or not qid or not query:
            raise UsageError(f"--batch: {path} line {n}: expected 'qid<TAB>query', got {line[:60]!r}")
        if any(c.isspace() for c in qid):
            raise UsageError(f"--batch: {path} line {n}: the query id {qid!r} contains spaces "
                             "(TREC run files cannot hold it)")
        if qid in seen:
            raise UsageError(f"--batch: {path} line {n}: query id {qid!r} repeats line {seen[qid]}")
        seen[qid] = n
        items.append((n, qid, query))
    return items


def run_batch(searcher: Searcher, path: Path, match: str, limit: int, fmt: str, out: TextIO,
              filters: Mapping[str, Any], err: TextIO | None = None,
              rank: str | None = None) -> int:
    """Answer every query of the file; a query that cannot be searched (a malformed line in
    ``--match all``) is reported on ``err`` naming its qid and line, and the others are still
    answered. Returns how many queries failed (the CLI exits non-zero when any did)."""
    if fmt not in ("trec", "jsonl"):
        raise UsageError(f"--format: expected trec or jsonl, got {fmt!r}")
    failed = 0
    for n, qid, query in read_batch_file(path):
        req = SearchRequest(query=query, match=match, limit=limit, rank=rank, **dict(filters))
        try:
            if fmt == "trec":
                lines = [f"{qid} Q0 {pmid} {rank} {score if score is not None else 0:.6f} "
                         f"{RUN_TAG}\n" for rank, (pmid, score) in enumerate(searcher.rank(req), 1)]
            else:
                resp = searcher.search(req)
                row = {"qid": qid, "query": req.query, **resp.to_json(short=True)}
                lines = [json.dumps(row, ensure_ascii=False) + "\n"]
        except (QueryError, SearchTimeoutError) as exc:
            failed += 1
            if err is not None:
                err.write(f"ketlit: --batch: {path} line {n} (query {qid}): {exc}\n")
            continue
        out.writelines(lines)
    return failed
