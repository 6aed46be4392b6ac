"""The Whoosh face of index.analysis: tokenizers that feed :func:`index.analysis.analyse` to
Whoosh's schema. The analysis itself (folding, splitting, stemming) is backend-neutral and lives in
index.analysis; only this glue imports Whoosh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import RegexTokenizer, Token, Tokenizer

from index.analysis import PROTECTED, analyse


class BiomedTokenizer(Tokenizer):
    """Whoosh face of :func:`analyse` (a tokenizer that also folds, stops and stems)."""

    def __init__(self, stem: bool = True, protected: frozenset[str] = frozenset()) -> None:
        self.stem = stem
        self.protected = protected

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BiomedTokenizer) and self.stem == other.stem
                and self.protected == other.protected)

    def __hash__(self) -> int:
        return hash((self.stem, len(self.protected)))

    def __call__(self, value: str, positions: bool = False, chars: bool = False,  # type: ignore[override]
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: object) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for rt in analyse(value, stem=self.stem, stop=removestops, protected=self.protected):
            t.text = rt.text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[rt.start:rt.end]
            if positions:
                t.pos = start_pos + rt.pos
            if chars:
                t.startchar = start_char + rt.start
                t.endchar = start_char + rt.end
            yield t


def biomed_analyzer(stem: bool = True) -> BiomedTokenizer:
    return BiomedTokenizer(stem=stem, protected=PROTECTED)


def keys_analyzer() -> Any:
    """The analyzer of fields whose terms are whole values joined by "\\x1e" (index.whoosh.schema's
    ``words`` and ``keys``): each value one term, as written (values are folded beforehand)."""
    return RegexTokenizer(r"[^\x1e]+")
