"""The curated search vocabulary (search/vocabulary.yaml): synonyms, publication-type and
language aliases. Loaded once per process; the file is data so curators edit it without code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from index.analysis import PROTECTED, query_variants
from index.errors import ConfigError

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")

# An expression as the index sees it: a tuple of token groups, each group being the word's
# joined form followed by its parts (see index.analysis.query_variants).
Expression = tuple[tuple[str, ...], ...]


def analyse_expression(text: str) -> Expression:
    return tuple(tuple(g) for g in query_variants(text, PROTECTED))


def key_of(expr: Expression) -> tuple[str, ...]:
    """What two spellings of one expression share: the joined form of each word."""
    return tuple(g[0] for g in expr)


@dataclass(frozen=True)
class Vocabulary:
    # key (tuple of primary tokens) -> every expression of the concept (the key's own included)
    synonyms: dict[tuple[str, ...], tuple[Expression, ...]]
    max_len: int
    publication_types: dict[str, str]  # folded alias -> PubMed publication type
    languages: dict[str, str]  # folded name -> ISO 639-2 code

    def expansions(self, key: tuple[str, ...]) -> tuple[Expression, ...]:
        return self.synonyms.get(key, ())

    def publication_type(self, name: str) -> str:
        """The PubMed publication type for a friendly name (or the name itself)."""
        return self.publication_types.get(_fold_alias(name), name.strip())

    def language(self, name: str) -> str:
        return self.languages.get(_fold_alias(name), name.strip().lower())


def _fold_alias(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    return _load(str(path or VOCABULARY_PATH))


@lru_cache(maxsize=4)
def _load(path: str) -> Vocabulary:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"vocabulary: cannot read {path}: {exc}") from None
    synonyms: dict[tuple[str, ...], tuple[Expression, ...]] = {}
    max_len = 1
    for i, entry in enumerate(raw.get("synonyms") or []):
        if not isinstance(entry, list) or len(entry) < 2:
            raise ConfigError(f"vocabulary: synonyms entry {i + 1} must list two or more terms")
        exprs: dict[tuple[str, ...], Expression] = {}
        for text in entry:
            expr = analyse_expression(str(text))
            if expr:
                exprs.setdefault(key_of(expr), expr)
        group = tuple(exprs.values())
        for key in exprs:
            # A key in two concepts gets both concepts' expressions.
            merged = dict.fromkeys(synonyms.get(key, ()) + group)
            synonyms[key] = tuple(merged)
            max_len = max(max_len, len(key))
    pts = {_fold_alias(str(k)): str(v) for k, v in (raw.get("publication_types") or {}).items()}
    langs = {_fold_alias(str(k)): str(v) for k, v in (raw.get("languages") or {}).items()}
    return Vocabulary(synonyms=synonyms, max_len=max_len, publication_types=pts, languages=langs)
