"""``ketlit ingest``: PubMed XML (.xml, .xml.gz) and MEDLINE (.nbib, .txt, .medline) files.

Files are streamed (``iter_pubmed`` / ``iter_medline``) and committed in batches, so an annual
baseline file of 30,000 records ingests in the memory of one batch, and a fault half-way through a
file (corrupt XML, a bad MEDLINE line) loses nothing already committed: the error names the file
and the line, and running the command again after fixing the file simply upserts again.

Each batch is one Catalog upsert (index/catalog.py: store transaction -> index commit -> mark
indexed), so a crash between the two stores is repaired by the next harvest, ingest or reindex. A baseline or
update file's ``<DeleteCitation>`` list removes those PMIDs from the store and the index; it is
applied after the records before it are committed, in document order.

Ingest takes the harvest lock: both write the same store and index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harvester.lock import harvest_lock
from index.article import Article
from index.catalog import Catalog
from index.errors import InputFileError, UsageError
from index.progress import NullProgress, Progress, Task
from index.settings import Settings
from index.store import ORIGIN_INGEST, RecordStore

BATCH = 1000
_XML_SUFFIXES = (".xml", ".xml.gz", ".gz")
_MEDLINE_SUFFIXES = (".nbib", ".txt", ".medline")


@dataclass
class FileCounts:
    path: Path
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class IngestReport:
    files: list[FileCounts] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.files)

    @property
    def unchanged(self) -> int:
        return sum(f.unchanged for f in self.files)

    @property
    def deleted(self) -> int:
        return sum(f.deleted for f in self.files)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    def summary_lines(self) -> list[str]:
        lines = [f"{f.path}: {f.records} record(s): {f.new} new, {f.updated} updated, "
                 f"{f.unchanged} unchanged" + (f", {f.deleted} deleted" if f.deleted else "")
                 for f in self.files]
        tagged = f" tagged {', '.join(self.topics)}" if self.topics else ""
        lines.append(f"ingested {self.records} record(s) from {len(self.files)} file(s){tagged}: "
                     f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                     f"{self.deleted} deleted")
        return lines


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_XML_SUFFIXES):
        return "xml"
    if name.endswith(_MEDLINE_SUFFIXES):
        return "medline"
    raise UsageError(f"{path}: unknown file type; ingest takes PubMed XML (.xml, .xml.gz) or "
                     "MEDLINE (.nbib, .txt, .medline)")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory; give the files inside it")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{path}: not readable (permission denied)")


def _records(path: Path, kind: str) -> Iterator[object]:
    """Articles (and DeletedCitations) of a file; parse errors become InputFileError."""
    if kind == "xml":
        from harvester.parse import PubMedParseError, iter_pubmed

        try:
            yield from iter_pubmed(path)
        except PubMedParseError as exc:
            raise InputFileError(_named(path, str(exc))) from None
        except (OSError, EOFError) as exc:  # e.g. a truncated .gz
            raise InputFileError(f"{path}: cannot read: {exc}") from None
        return
    from harvester import medline

    try:
        yield from medline.iter_medline(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    except ValueError as exc:  # the MEDLINE parser's errors say which line
        raise InputFileError(_named(path, str(exc))) from None


def _named(path: Path, message: str) -> str:
    return message if str(path) in message else f"{path}: {message}"


def ingest_files(settings: Settings, paths: Iterable[Path | str], topics: Iterable[str] = (),
                 *, batch: int = BATCH, progress: Progress | None = None) -> IngestReport:
    topic_list = list(dict.fromkeys(topics))
    for t in topic_list:
        if t not in settings.topics:
            known = ", ".join(settings.topics) or "none configured"
            raise UsageError(f"--topic: no topic named {t!r} (known: {known})")
    files = [Path(p) for p in paths]
    if not files:
        raise UsageError("ingest: give at least one file")
    for p in files:
        _check_file(p)
    kinds = [_kind(p) for p in files]
    report = IngestReport(topics=topic_list)
    with harvest_lock(settings.lock_path, what="harvest or ingest",
                      hint="run ingest again when it has finished"):
        store = RecordStore(settings.store_path)
        try:
            with Catalog(settings, store, progress=progress) as catalog:
                catalog.catch_up()
                for path, kind in zip(files, kinds, strict=True):
                    counts = FileCounts(path)
                    report.files.append(counts)
                    # A file's record count is unknown until it is read: the line shows records
                    # done and the rate.
                    with (progress or NullProgress()).task(f"ingest {path.name}") as task:
                        _ingest_one(catalog, path, kind, topic_list, counts, batch, task)
        finally:
            store.close()
    return report


def _ingest_one(catalog: Catalog, path: Path, kind: str, topics: list[str], counts: FileCounts,
                batch: int, task: Task) -> None:
    from harvester.parse import DeletedCitations

    pending: dict[str, Article] = {}
    for rec in _records(path, kind):
        if isinstance(rec, DeletedCitations):
            _commit(catalog, list(pending.values()), topics, counts)
            pending.clear()
            _delete(catalog, list(rec.pmids), counts)
            continue
        if isinstance(rec, Article):
            counts.records += 1
            pending[rec.pmid] = rec
            if len(pending) >= batch:
                _commit(catalog, list(pending.values()), topics, counts)
                task.advance(len(pending))
                pending.clear()
    _commit(catalog, list(pending.values()), topics, counts)
    task.advance(len(pending))


def _commit(catalog: Catalog, articles: list[Article], topics: list[str],
            counts: FileCounts) -> None:
    if not articles:
        return
    result = catalog.upsert(articles, origin=ORIGIN_INGEST, extra_topics=topics)
    counts.new += len(result.new)
    counts.updated += len(result.updated)
    counts.unchanged += len(result.unchanged)


def _delete(catalog: Catalog, pmids: list[str], counts: FileCounts) -> None:
    if not pmids:
        return
    counts.deleted += len(catalog.delete(pmids))
