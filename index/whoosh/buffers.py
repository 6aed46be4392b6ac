"""Whoosh reads mapped segment files through zero-copy views, as it means to.

whoosh-reloaded maps a compound segment file and hands each file inside it out as a
``BufferFile`` over a memoryview of the map; but ``BufferFile.__init__`` also wraps the view in
``io.BytesIO`` for sequential reads, and a BytesIO copies a memoryview. So every reader opened
copied the whole terms and postings files: measured on the 100,000-record benchmark index,
488 MB copied in ~250 ms per reader, twice per fresh searcher (``open_index`` checks the
segments with a reader of its own), and resident memory from 21 MB to 980 MB, although Whoosh
reads these files a few bytes at a time (a seek and a header per term) or by slices
(``get``/``get_array``). ``install()`` gives BufferFile a read-only file object over the view
that copies only what is read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from whoosh.filedb.structfile import BufferFile

from index.errors import ConfigError


class ViewReader(io.RawIOBase):
    """A seekable, read-only binary file over a buffer (memoryview, bytes, mmap), copying only
    the bytes each read returns."""

    def __init__(self, buf: Any) -> None:
        super().__init__()
        self._view = memoryview(buf).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = len(self._view) + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        out = bytes(self._view[self._pos:end])
        self._pos += len(out)
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(memoryview(b)))
        memoryview(b).cast("B")[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view),
                                                                    self._pos + size)
        pos = self._pos
        while pos < end:  # in chunks, so a long file is not copied to find one newline
            chunk = bytes(self._view[pos:min(end, pos + 4096)])
            nl = chunk.find(b"\n")
            if nl >= 0:
                end = pos + nl + 1
                break
            pos += len(chunk)
        return self.read(end - self._pos)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        # Only this reader's own view is released: Whoosh's storage owns the map itself.
        if not self.closed:
            self._view.release()
        super().close()


def _init(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    self._buf = buf
    self._name = name
    self.file = ViewReader(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


# The Whoosh release this patch and index/whoosh/engine.py's reads of private readers were
# written for; pyproject.toml pins it exactly.
WHOOSH_VERSION = "2.7.5"


def check_version(installed: str | None = None) -> None:
    """Refuse a Whoosh other than WHOOSH_VERSION, in one line, instead of misreading its files."""
    if installed is None:
        from importlib.metadata import version

        installed = version("whoosh-reloaded")
    if installed != WHOOSH_VERSION:
        raise ConfigError(f"whoosh-reloaded {installed} is installed but ketlit's Whoosh backend "
                          f"needs exactly {WHOOSH_VERSION}: run pip install "
                          f"'whoosh-reloaded=={WHOOSH_VERSION}'")


def install() -> None:
    """Give Whoosh's BufferFile a zero-copy reader (idempotent; affects this process). Called
    where the Whoosh backend opens or creates an index (index.whoosh.index_dir), after checking the
    installed Whoosh is the one the patch was written for."""
    if getattr(BufferFile, "_ketlit_view", False):
        return
    check_version()
    BufferFile.__init__ = _init  # type: ignore[method-assign]
    BufferFile._ketlit_view = True  # type: ignore[attr-defined]
