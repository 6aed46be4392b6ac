"""Min-max fusion of lexical scores and cosines."""

import numpy as np

from index.embeddings.fusion import fuse, rerank


def test_fusion_weights_and_reorders() -> None:
    lex = np.array([10.0, 9.0, 1.0])
    cos = np.array([0.1, 0.9, 0.5])
    assert [p for p, _ in rerank(["a", "b", "c"], lex, cos, 0.0)] == ["a", "b", "c"]
    assert [p for p, _ in rerank(["a", "b", "c"], lex, cos, 1.0)] == ["b", "c", "a"]
    assert [p for p, _ in rerank(["a", "b", "c"], lex, cos, 0.5)][0] == "b"


def test_constant_scores_and_empty_input() -> None:
    np.testing.assert_allclose(fuse(np.array([2.0, 2.0]), np.array([0.3, 0.3])), [0, 0])
    assert len(fuse(np.array([]), np.array([]))) == 0
