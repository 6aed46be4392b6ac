"""all-MiniLM-L6-v2 as an ONNX graph built in memory from the packaged safetensors weights.

Why: onnxruntime runs the same arithmetic as the numpy pass (model.py) with fused kernels
and its own thread pool, several times faster on two cores (bench/bench_embed.py). Nothing is
downloaded or converted ahead of time: the graph is assembled from the verified weights when
the model loads (about a second), so the only model file on disk is the packaged one.

Inputs: ``input_ids`` int64 [batch, tokens], ``attention_mask`` float32 [batch, tokens].
Output: ``embeddings`` float32 [batch, 384], mean-pooled over the mask and L2-normalised.
"""

from __future__ import annotations

import numpy as np

MS = "com.microsoft"  # onnxruntime's fused CPU kernels (Attention, SkipLayerNorm, BiasGelu)
OPSET = 17  # LayerNormalization is a standard op from 17 on
DIM = 384
HEADS = 12
LAYERS = 6
EPS = 1e-12


class _Graph:
    def __init__(self) -> None:
        from onnx import helper

        self.h = helper
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def op(self, kind: str, *inputs: str, domain: str = "", **attrs: object) -> str:
        self._n += 1
        out = f"{kind.lower()}_{self._n}"
        self.nodes.append(self.h.make_node(kind, list(inputs), [out], domain=domain or None,
                                           **attrs))
        return out


def build(weights: dict[str, np.ndarray], fused: bool = True) -> bytes:
    """The serialised ONNX model for BERT weights named as in model.safetensors.

    ``fused`` uses onnxruntime's Attention/SkipLayerNormalization/BiasGelu kernels (~10% faster
    here); ``fused=False`` spells each layer in standard ONNX ops, as model.py does in numpy.
    """
    from onnx import TensorProto, helper

    w = {k: np.asarray(v, np.float32) for k, v in weights.items()
         if k != "embeddings.position_ids"}
    g = _Graph()
    hd = DIM // HEADS
    i64 = lambda name, v: g.const(name, np.array(v, np.int64))  # noqa: E731
    ax1, axm1 = i64("ax1", [1]), i64("axm1", [-1])
    zero = i64("zero", [0])

    # Embeddings: word + position (first n rows) + token type 0, then LayerNorm.
    n = g.op("Slice", g.op("Shape", "input_ids"), ax1, i64("two", [2]))
    pos = g.op("Slice", g.const("pos_emb", w["embeddings.position_embeddings.weight"]),
               zero, n, zero)
    x = g.op("Gather", g.const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids")
    x = g.op("Add", g.op("Add", x, pos),
             g.const("type_emb", w["embeddings.token_type_embeddings.weight"][0]))
    x = _ln(g, x, w, "embeddings.LayerNorm")

    if not fused:
        one = g.const("one", np.array(1.0, np.float32))
        # Additive attention bias: 0 where the mask is 1, -1e9 where it is 0; [b, 1, 1, n].
        bias = g.op("Mul", g.op("Sub", one, "attention_mask"),
                    g.const("neg", np.array(-1e9, np.float32)))
        bias = g.op("Unsqueeze", bias, i64("ax12", [1, 2]))
        scale = g.const("scale", np.array(1.0 / np.sqrt(hd), np.float32))
        split_shape = i64("split_shape", [0, 0, 3, HEADS, hd])
        merge_shape = i64("merge_shape", [0, 0, DIM])
        rt2 = g.const("rsqrt2", np.array(1.0 / np.sqrt(2.0), np.float32))
        half = g.const("half", np.array(0.5, np.float32))
    mask_i32 = g.op("Cast", "attention_mask", to=TensorProto.INT32) if fused else ""
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        wqkv = np.concatenate([w[a + n_ + ".weight"].T for n_ in ("query", "key", "value")], 1)
        bqkv = np.concatenate([w[a + n_ + ".bias"] for n_ in ("query", "key", "value")])
        if fused:
            x = _fused_layer(g, x, w, i, wqkv, bqkv, mask_i32)
            continue
        qkv = g.op("Add", g.op("MatMul", x, g.const(f"l{i}_wqkv", wqkv)),
                   g.const(f"l{i}_bqkv", bqkv))
        qkv = g.op("Transpose", g.op("Reshape", qkv, split_shape), perm=[2, 0, 3, 1, 4])
        q, k, v = (g.op("Gather", qkv, i64(f"l{i}_s{j}", j)) for j in range(3))
        att = g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]))
        att = g.op("Softmax", g.op("Add", g.op("Mul", att, scale), bias), axis=-1)
        ctx = g.op("Reshape", g.op("Transpose", g.op("MatMul", att, v), perm=[0, 2, 1, 3]),
                   merge_shape)
        o = _dense(g, ctx, w, p + "attention.output.dense", f"l{i}_ao")
        x = _ln(g, g.op("Add", o, x), w, p + "attention.output.LayerNorm")
        hid = _dense(g, x, w, p + "intermediate.dense", f"l{i}_in")
        # Exact (erf) GELU, as BERT uses.
        hid = g.op("Mul", g.op("Mul", hid, half),
                   g.op("Add", one, g.op("Erf", g.op("Mul", hid, rt2))))
        o = _dense(g, hid, w, p + "output.dense", f"l{i}_out")
        x = _ln(g, g.op("Add", o, x), w, p + "output.LayerNorm")

    # Mean pooling over the mask, then L2 normalisation (clamped as sentence-transformers does).
    m = g.op("Unsqueeze", "attention_mask", axm1)
    s = g.op("ReduceSum", g.op("Mul", x, m), ax1, keepdims=0)
    c = g.op("Max", g.op("ReduceSum", m, ax1, keepdims=0),
             g.const("tiny", np.array(1e-9, np.float32)))
    pooled = g.op("Div", s, c)
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[-1], keepdims=1),
                g.const("eps", np.array(1e-12, np.float32)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embeddings"]))

    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", DIM])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid(MS, 1)],
                              producer_name="ketlit")
    model.ir_version = 8
    return model.SerializeToString()


def _fused_layer(g: _Graph, x: str, w: dict[str, np.ndarray], i: int, wqkv: np.ndarray,
                 bqkv: np.ndarray, mask: str) -> str:
    """One encoder layer with onnxruntime's fused kernels: the same arithmetic, fewer passes."""
    p = f"encoder.layer.{i}."
    ctx = g.op("Attention", x, g.const(f"l{i}_wqkv", wqkv), g.const(f"l{i}_bqkv", bqkv), mask,
               domain=MS, num_heads=HEADS)
    o = g.op("MatMul", ctx, g.const(f"l{i}_ao_w", w[p + "attention.output.dense.weight"].T))
    x = _skip_ln(g, o, x, w, p + "attention.output.LayerNorm", f"l{i}_ao_b",
                 w[p + "attention.output.dense.bias"])
    hid = g.op("MatMul", x, g.const(f"l{i}_in_w", w[p + "intermediate.dense.weight"].T))
    hid = g.op("BiasGelu", hid, g.const(f"l{i}_in_b", w[p + "intermediate.dense.bias"]),
               domain=MS)
    o = g.op("MatMul", hid, g.const(f"l{i}_out_w", w[p + "output.dense.weight"].T))
    return _skip_ln(g, o, x, w, p + "output.LayerNorm", f"l{i}_out_b",
                    w[p + "output.dense.bias"])


def _skip_ln(g: _Graph, x: str, skip: str, w: dict[str, np.ndarray], name: str, bias_name: str,
             bias: np.ndarray) -> str:
    """LayerNorm(x + bias + skip) in one kernel."""
    tag = name.replace(".", "_")
    return g.op("SkipLayerNormalization", x, skip, g.const(tag + "_g", w[name + ".weight"]),
                g.const(tag + "_b", w[name + ".bias"]), g.const(bias_name, bias),
                domain=MS, epsilon=EPS)


def _dense(g: _Graph, x: str, w: dict[str, np.ndarray], name: str, tag: str) -> str:
    return g.op("Add", g.op("MatMul", x, g.const(tag + "_w", w[name + ".weight"].T)),
                g.const(tag + "_b", w[name + ".bias"]))


def _ln(g: _Graph, x: str, w: dict[str, np.ndarray], name: str) -> str:
    tag = name.replace(".", "_")
    return g.op("LayerNormalization", x, g.const(tag + "_g", w[name + ".weight"]),
                g.const(tag + "_b", w[name + ".bias"]), axis=-1, epsilon=EPS)
