"""Hybrid fusion: min-max normalise lexical scores and cosines over the lexical top k, then mix.

Weight 0.5 (equal) is the prototype's choice; the scifact-train sweep that should confirm or
replace it is still to be run (bench/relevance.py --rank hybrid).
"""

from __future__ import annotations

import numpy as np

RANKS = ("lexical", "hybrid")
TOP_K = 100
DEFAULT_WEIGHT = 0.5  # weight of the cosine; 1 - weight goes to the lexical score


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-12 else (x - lo) / (hi - lo)


def fuse(lexical: np.ndarray, cosine: np.ndarray, weight: float = DEFAULT_WEIGHT) -> np.ndarray:
    """Fused scores (same order as the inputs); higher is better."""
    if len(lexical) == 0:
        return np.zeros(0, dtype=np.float32)
    return ((1.0 - weight) * _minmax(np.asarray(lexical, np.float64))
            + weight * _minmax(np.asarray(cosine, np.float64))).astype(np.float32)


def rerank(ids: list[str], lexical: np.ndarray, cosine: np.ndarray,
           weight: float = DEFAULT_WEIGHT) -> list[tuple[str, float]]:
    """ids re-ordered by fused score (ties keep the lexical order)."""
    f = fuse(lexical, cosine, weight)
    order = sorted(range(len(ids)), key=lambda i: (-f[i], i))
    return [(ids[i], float(f[i])) for i in order]
