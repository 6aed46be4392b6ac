"""Evidence annotations (issue 16): design, route, drug, condition, participants, phase, control
and trial registry ids for one record, from its title, abstract, publication types, MeSH headings,
keywords and DataBankList.

The rules are data (index/annotations/rules.yaml): a curator edits cue phrases and vocabularies
without touching code; this package only knows how to apply them. No model and nothing learned
from annotated data ships: the PsyNamic labels are used by bench/annotation.py for measuring only.
"""

from __future__ import annotations

from index.annotations.engine import ANNOTATION_KEYS, annotate, load_rules

__all__ = ["ANNOTATION_KEYS", "annotate", "load_rules"]
