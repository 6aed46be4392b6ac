"""The embedding store: incremental, atomic, keyed by PMID and text; safe with two writers;
corrupt -> one clear error, or moved aside and rebuilt by writers."""

from pathlib import Path

import numpy as np
import pytest

from index.embeddings.store import EmbeddingStore, StoreReader
from index.errors import CorruptDataError

DIGEST = "abc" * 10


def test_round_trip_and_staleness(tmp_path: Path) -> None:
    s = EmbeddingStore(tmp_path, DIGEST, dim=4)
    assert s.stale({"1": "a", "2": "b"}) == ["1", "2"]
    s.put(["1", "2"], ["a", "b"], np.eye(4, dtype=np.float32)[:2])
    s.save()
    t = EmbeddingStore(tmp_path, DIGEST, dim=4)
    assert t.stale({"1": "a", "2": "changed", "3": "c"}) == ["2", "3"]
    have, m = t.get(["2", "9", "1"])
    assert have == ["2", "1"]
    np.testing.assert_allclose(m, np.eye(4)[[1, 0]])
    assert not list(tmp_path.glob("*.tmp"))


def test_delete_and_keep_only(tmp_path: Path) -> None:
    s = EmbeddingStore(tmp_path, DIGEST, dim=4)
    s.put(["1", "2", "3"], ["a", "b", "c"], np.eye(4, dtype=np.float32)[:3])
    s.delete(["2", "unknown"])
    s.keep_only({"1", "2"})
    s.save()
    t = EmbeddingStore(tmp_path, DIGEST, dim=4)
    assert t.pmids == ["1"]
    np.testing.assert_allclose(t.get(["1"])[1], np.eye(4)[[0]])


def test_two_writers_keep_each_others_rows(tmp_path: Path) -> None:
    # A harvest and a reindex may write at once: each saves its changes on top of the other's.
    base = EmbeddingStore(tmp_path, DIGEST, dim=4)
    base.put(["1", "2"], ["a", "b"], np.eye(4, dtype=np.float32)[:2])
    base.save()
    a = EmbeddingStore(tmp_path, DIGEST, dim=4)
    b = EmbeddingStore(tmp_path, DIGEST, dim=4)
    a.put(["3"], ["c"], np.eye(4, dtype=np.float32)[2:3])
    a.delete(["1"])
    a.save()
    b.put(["4"], ["d"], np.eye(4, dtype=np.float32)[3:4])
    b.save()
    final = EmbeddingStore(tmp_path, DIGEST, dim=4)
    assert sorted(final.pmids) == ["2", "3", "4"]
    np.testing.assert_allclose(final.get(["3", "4"])[1], np.eye(4)[[2, 3]])


def test_corrupt_store_is_one_clear_error(tmp_path: Path) -> None:
    s = EmbeddingStore(tmp_path, DIGEST, dim=4)
    s.path.parent.mkdir(exist_ok=True)
    s.path.write_bytes(b"not a zip")
    with pytest.raises(CorruptDataError, match=r"embeddings-.*corrupt embedding store.*reindex"):
        EmbeddingStore(tmp_path, DIGEST, dim=4)
    assert CorruptDataError.exit_code == 7


def test_writers_move_a_corrupt_store_aside_and_rebuild(tmp_path: Path) -> None:
    path = EmbeddingStore(tmp_path, DIGEST, dim=4).path
    path.write_bytes(b"PK\x03\x04 truncated")
    s = EmbeddingStore(tmp_path, DIGEST, dim=4, rebuild_if_corrupt=True)
    assert len(s) == 0 and not path.exists()
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 1
    s.put(["1"], ["a"], np.eye(4, dtype=np.float32)[:1])
    s.save()
    assert EmbeddingStore(tmp_path, DIGEST, dim=4).pmids == ["1"]


def test_reader_rereads_only_when_the_file_changes(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path, DIGEST, dim=4)
    assert reader.get() is None
    w = EmbeddingStore(tmp_path, DIGEST, dim=4)
    w.put(["1"], ["a"], np.eye(4, dtype=np.float32)[:1])
    w.save()
    first = reader.get()
    assert first is not None and first.pmids == ["1"]
    assert reader.get() is first
    w.put(["2"], ["b"], np.eye(4, dtype=np.float32)[1:2])
    w.save()
    assert reader.get().pmids == ["1", "2"]
