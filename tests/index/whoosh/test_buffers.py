"""index.whoosh.buffers: Whoosh's mapped segment files read through views, never copied whole,
with the file behaviour Whoosh relies on (the same answers as io.BytesIO)."""

from __future__ import annotations

import gc
import io
import pickle
from array import array

import pytest
from whoosh.filedb.structfile import BufferFile

from index.settings import Settings
from index.whoosh.buffers import ViewReader
from search.searcher import SearchRequest, open_searcher

DATA = b"header\nsecond line\n" + bytes(range(256)) * 40 + b"\nno newline at the end"


def test_view_reader_reads_like_bytesio() -> None:
    view, ref = ViewReader(memoryview(DATA)), io.BytesIO(DATA)
    for op in (lambda f: f.read(3), lambda f: f.readline(), lambda f: f.tell(),
               lambda f: f.seek(100), lambda f: f.read(10), lambda f: f.seek(5, io.SEEK_CUR),
               lambda f: f.readline(4), lambda f: f.seek(-7, io.SEEK_END), lambda f: f.read(),
               lambda f: f.read(5), lambda f: f.seek(10_000_000), lambda f: f.read(1),
               lambda f: f.seek(0), lambda f: list(f)):
        assert op(view) == op(ref)
    buf = bytearray(8)
    view.seek(7)
    assert view.readinto(buf) == 8 and bytes(buf) == DATA[7:15]
    with pytest.raises(ValueError):
        view.seek(-1)
    view.close()
    with pytest.raises(ValueError):
        view.read(1)


def test_view_reader_serves_pickle_and_array_reads() -> None:
    payload = pickle.dumps({"a": [1, 2, 3]}, 2) + b"tail"
    f = ViewReader(memoryview(payload))
    assert pickle.load(f) == {"a": [1, 2, 3]} and f.read() == b"tail"
    a = array("I")
    a.fromfile(ViewReader(array("I", [7, 8, 9]).tobytes()), 3)
    assert list(a) == [7, 8, 9]


def test_searcher_readers_do_not_copy_the_index_files(indexed_settings: Settings) -> None:
    with open_searcher(indexed_settings) as s:
        assert s.search(SearchRequest('"ketamine" esketamine', match="any")).total > 0
        files = [o for o in gc.get_objects() if isinstance(o, BufferFile) and not o.is_closed]
        assert files, "the test index is read through mapped files"
        # io.BytesIO would hold a full copy of each (the postings file: most of the index)
        assert all(isinstance(f.file, ViewReader) for f in files)


def test_other_whoosh_versions_are_refused_in_one_line() -> None:
    import pytest

    from index.errors import ConfigError
    from index.whoosh.buffers import WHOOSH_VERSION, check_version

    check_version()  # the installed one is the pinned one
    check_version(WHOOSH_VERSION)
    with pytest.raises(ConfigError, match="needs exactly 2.7.5"):
        check_version("2.7.6")
