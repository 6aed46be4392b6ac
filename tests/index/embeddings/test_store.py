"""The embedding store: incremental, atomic, keyed by PMID and text; corrupt -> one clear error."""

from pathlib import Path

import numpy as np
import pytest

from index.embeddings.store import EmbeddingStore
from index.errors import UsageError


def test_round_trip_and_staleness(tmp_path: Path) -> None:
    s = EmbeddingStore(tmp_path, "abc" * 10, dim=4)
    assert s.stale({"1": "a", "2": "b"}) == ["1", "2"]
    s.put(["1", "2"], ["a", "b"], np.eye(4, dtype=np.float32)[:2])
    s.save()
    t = EmbeddingStore(tmp_path, "abc" * 10, dim=4)
    assert t.stale({"1": "a", "2": "changed", "3": "c"}) == ["2", "3"]
    have, m = t.get(["2", "9", "1"])
    assert have == ["2", "1"]
    np.testing.assert_allclose(m, np.eye(4)[[1, 0]])
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupt_store_is_one_clear_error(tmp_path: Path) -> None:
    s = EmbeddingStore(tmp_path, "abc" * 10, dim=4)
    s.path.write_bytes(b"not a zip")
    with pytest.raises(UsageError, match="corrupt embedding store.*reindex"):
        EmbeddingStore(tmp_path, "abc" * 10, dim=4)
