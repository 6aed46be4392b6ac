"""PubMed XML (efetch answers, "Save as XML" exports, baseline and update files) -> Article.

Streaming: :func:`iter_pubmed` walks the document with ``lxml.etree.iterparse`` and clears every
record (and the records before it) once it has been turned into an :class:`Article`, so a
baseline file of 30,000 records parses in the memory of one record. No DTD is loaded and nothing
is fetched from the network: PubMed's DOCTYPE points at NCBI, and old files at ``http://`` URLs.

Everything that is not a well-formed ``<PubmedArticleSet>`` raises :class:`PubMedParseError`:
truncated or malformed XML, an HTML page from a proxy, an E-utilities ``<ERROR>`` body. The
harvester retries on that error, so it is never swallowed here.

Handled vintages: DTDs from 2008 (``DateCreated``, article-level ``Affiliation``, no ``Version``
on ``PMID``) to 2025; ``PubmedArticle`` and ``PubmedBookArticle``; ``DeleteCitation`` lists.
Inline markup becomes plain text through :mod:`harvester.markup`.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

# The record builders and field readers live in parse_record.py and parse_fields.py; this
# module is the package's public face (iter_pubmed, parse_articles, PubMedParseError,
# DeletedCitations, normalize_orcid) and owns the document: opening, sniffing, streaming.
from harvester.parse_fields import normalize_orcid
from harvester.parse_record import PubMedParseError, _article, _book
from index.article import Article

__all__ = ["DeletedCitations", "PubMedParseError", "Source", "iter_pubmed", "normalize_orcid",
           "parse_articles"]


@dataclass(frozen=True)
class DeletedCitations:
    """PMIDs that a baseline/update file's ``<DeleteCitation>`` removes from PubMed."""

    pmids: tuple[str, ...]


Source = bytes | bytearray | str | os.PathLike[str] | IO[bytes]

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation", "ERROR")
_ROOT = "PubmedArticleSet"
_SNIFF = 4096


# -- public API -----------------------------------------------------------------------------------


def iter_pubmed(source: Source) -> Iterator[Article | DeletedCitations]:
    """Stream the records of a PubMed XML document in constant memory.

    ``source`` is the document's bytes, a path (``.gz`` or gzip magic -> decompressed) or a binary
    file object. Yields an :class:`Article` per ``PubmedArticle``/``PubmedBookArticle`` and a
    :class:`DeletedCitations` per ``DeleteCitation``, in document order. Raises
    :class:`PubMedParseError` on anything that is not a well-formed ``PubmedArticleSet`` (records
    before the fault have already been yielded: callers that need all-or-nothing collect first,
    as :func:`parse_articles` does).
    """
    name, stream, close = _open(source)
    try:
        yield from _iterate(stream, name)
    finally:
        if close is not None:
            close()


def parse_articles(data: bytes) -> list[Article]:
    """Every Article of one efetch answer; ``[]`` for an empty ``<PubmedArticleSet/>``.

    All or nothing: a truncated, malformed, HTML or ``<ERROR>`` body raises PubMedParseError.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"parse_articles takes the response body as bytes, not {type(data).__name__}")
    return [r for r in iter_pubmed(bytes(data)) if isinstance(r, Article)]


# -- the document ---------------------------------------------------------------------------------


class _Prefixed:
    """A read()-able stream that first returns the bytes already sniffed from the source."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)


def _open(source: Source) -> tuple[str, Any, Any]:
    """(name for messages, a read()-able byte stream, closer or None)."""
    if isinstance(source, bytes | bytearray):
        head = bytes(source)
        if head[:2] == b"\x1f\x8b":
            try:
                head = gzip.decompress(head)
            except (OSError, EOFError, zlib.error) as exc:
                raise PubMedParseError(f"response: corrupt gzip body: {exc}") from exc
        _sniff(head, "response")
        return "response", io.BytesIO(_strip_lead(head)), None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by iter_pubmed's finally
        except OSError as exc:
            raise PubMedParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
        name = str(path)
        fobj: IO[bytes] = raw
        if raw.read(2) == b"\x1f\x8b" or path.suffix == ".gz":
            raw.seek(0)
            fobj = gzip.GzipFile(fileobj=raw, mode="rb")
        else:
            raw.seek(0)

        def close() -> None:
            fobj.close()
            raw.close()

        try:
            return name, _sniffed_stream(fobj, name), close
        except BaseException:
            close()
            raise
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "stream"))
        return name, _sniffed_stream(source, name), None
    raise TypeError(f"iter_pubmed takes bytes, a path or a binary file, not {type(source).__name__}")


def _sniffed_stream(fobj: IO[bytes], name: str) -> _Prefixed:
    try:
        head = fobj.read(_SNIFF)
    except (OSError, EOFError, zlib.error) as exc:
        raise PubMedParseError(f"{name}: cannot read: {exc}") from exc
    if isinstance(head, str):
        raise TypeError(f"{name}: open the file in binary mode ('rb')")
    _sniff(head, name)
    return _Prefixed(_strip_lead(head), fobj)


def _strip_lead(head: bytes) -> bytes:
    # A byte-order mark is legal XML, but whitespace before "<?xml" is not; pasted or re-saved
    # exports sometimes carry both, and neither changes what the document says.
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(b" \t\r\n")


def _sniff(head: bytes, name: str) -> None:
    start = _strip_lead(head)[:512].lower()
    if not start:
        raise PubMedParseError(f"{name}: empty body, not PubMed XML")
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start[:200]:
        title = re.search(rb"<title>(.*?)</title>", head, re.I | re.S)
        what = f" ({' '.join(title.group(1).decode('utf-8', 'replace').split())[:120]})" if title else ""
        raise PubMedParseError(f"{name}: an HTML page{what}, not PubMed XML")
    if start[:1] in (b"{", b"["):
        raise PubMedParseError(f"{name}: a JSON body, not PubMed XML: {head[:200]!r}")


def _iterate(stream: Any, name: str) -> Iterator[Article | DeletedCitations]:
    context = etree.iterparse(stream, events=("end",), tag=_RECORD_TAGS, resolve_entities=False,
                              no_network=True, load_dtd=False,
                              remove_comments=True)
    checked_root = False
    try:
        for _, el in context:
            tag = el.tag
            if tag == "ERROR":
                message = " ".join("".join(el.itertext()).split())
                raise PubMedParseError(
                    f"{name}: E-utilities error at line {el.sourceline}: {message or '(empty)'}")
            parent = el.getparent()
            if not checked_root:
                root = el.getroottree().getroot()
                if root.tag != _ROOT:
                    raise PubMedParseError(
                        f"{name}: root element is <{root.tag}>, not <{_ROOT}>")
                checked_root = True
            if parent is None or parent.tag != _ROOT:
                # nested inside something else (e.g. a <Reference>): not a record of this set
                continue
            if tag == "PubmedArticle":
                record: Article | DeletedCitations = _article(el, name)
            elif tag == "PubmedBookArticle":
                record = _book(el, name)
            else:
                record = DeletedCitations(tuple(
                    p.text.strip() for p in el.iter("PMID") if p.text and p.text.strip()))
            # Constant memory: drop this record and every finished sibling before it.
            el.clear(keep_tail=False)
            while el.getprevious() is not None:
                del parent[0]
            yield record
    except etree.XMLSyntaxError as exc:
        line, col = (exc.position if exc.position else (exc.lineno, 0))
        raise PubMedParseError(
            f"{name}: malformed or truncated XML at line {line}, column {col}: {exc.msg}") from exc
    except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz, a failing disk
        raise PubMedParseError(f"{name}: cannot read: {exc}") from exc
    root_el = context.root
    if root_el is None:
        raise PubMedParseError(f"{name}: no XML document found")
    if root_el.tag != _ROOT:
        raise PubMedParseError(f"{name}: root element is <{root_el.tag}>, not <{_ROOT}>")
