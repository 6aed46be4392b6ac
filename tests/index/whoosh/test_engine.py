"""index.whoosh.engine: the ranking cut of a page (the query evaluation itself is checked against
Whoosh in test_arrays.py's phrase test and the search tests)."""

from __future__ import annotations

import numpy as np

from index.whoosh.engine import top_k


def test_top_k_breaks_ties_at_the_cut_by_docnum() -> None:
    """A page's cut through tied scores keeps the lower document numbers, so page 1 and page 2
    are slices of one ranking (argpartition alone picked among the tie arbitrarily)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        score = rng.integers(0, 4, n).astype(np.float64)  # many ties
        mask = rng.random(n) < 0.8
        whole = top_k(mask, score, None).tolist()
        assert whole == sorted(whole, key=lambda d: (-score[d], d))
        for k in range(1, n + 1):
            assert top_k(mask, score, k).tolist() == whole[:k]
