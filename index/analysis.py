"""Biomedical text analysis shared by the index writer, the query builder and the highlighter.

Generic tokenizers break what biomedical readers type: "5-HT2A" becomes "5", "ht2a"; "IL-6"
loses its "6"; "(R)-ketamine" loses its stereo descriptor; "p < 0.05" is three unrelated tokens.
Here a hyphenated compound is indexed both joined ("il6", "5ht2a", "covid19") and as its parts at
consecutive positions (the joined form at the last part's position), so "IL-6", "IL6" and
"IL 6" all find it; stereo descriptors become parts
("(2R,6R)-HNK" -> "2r6rhnk" + "2r6r", "hnk"); p-values are one token ("p<0.05"); Greek letters are
spelled out (TNF-α -> "tnfalpha", as people type it) and accents are folded.

Stemming is Porter2 (Snowball English): measured on the relevance benchmark it beats inflection-
only stemming by more than a point of nDCG@10 (bench/README.md). Porter2 also merges some
unrelated words (positive/position, organ/organic, animal/animation, emergency/emergence); those
words get stems of their own (_OWN_STEM). Spelling variants (randomised, tumour) and irregular
plurals (mice, analyses) are normalised first. Tokens with digits, p-values, short tokens and the
PROTECTED acronyms below are never stemmed.

Index and query go through the same analyzer, so whatever normal form is chosen here matches.
The analysis is part of the index format: change it -> bump schema.SCHEMA_VERSION -> reindex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from index.porter2 import stem as porter2_stem

# A small English stop list: function words only. Negations and quantity words ("no", "not",
# "without", "more", "less") are kept because they carry meaning in clinical claims.
_STOP_TEXT = """
a an and are as at be been being but by for from had has have he her his i if in into is it its
of on or our she so such than that the their them then there these they this those to was we were
which while who whom will with would you your also can may might shall should could did do does
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "ς": "sigma", "µ": "mu",
}

_DASHES = "-\u2010\u2011\u2012\u2013\u2212"
_APOS = "'\u2019\u02bc"

# Order matters: the first alternative that matches at a position wins.
TOKEN_RE = re.compile(
    r"""
    (?P<pval>\b[pP]\s*(?:<=|>=|[<>=\u2264\u2265])\s*(?:\d*\.\d+|\d+)(?:[eE]-?\d+)?)
    | (?P<stereo>\((?:\d*[RSrs](?:\s*,\s*\d*[RSrs])*|[+\u00b1-]|[DLdl])\)[""" + _DASHES + r"""]?)
      (?P<stword>[^\W_]+(?:[""" + _DASHES + _APOS + r"""][^\W_]+|\.\d+)*)
    | (?P<word>[^\W_]+(?:[""" + _DASHES + _APOS + r"""][^\W_]+|(?<=\d)\.\d+)*)
    """,
    re.VERBOSE,
)
_SPLIT_PARTS = re.compile("[" + _DASHES + "]")
_APOS_RE = re.compile("[" + _APOS + "]")
_HAS_DIGIT = re.compile(r"\d")
_POSSESSIVE_RE = re.compile(r"[" + _APOS + r"]s$")
_NOT_DESC_RE = re.compile(r"[^0-9a-z+]")
_PVAL_SPACE_RE = re.compile(r"\s+")
_PVAL_RE = re.compile(r"(p(?:<=|>=|[<>=]))(.*)$")


def fold(text: str) -> str:
    """Lower-case, Greek letters spelled out, accents removed (Sjögren -> sjogren)."""
    text = text.lower()
    if not text.isascii():
        text = "".join(_GREEK.get(ch, ch) for ch in text)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text


# -- stemming ---------------------------------------------------------------------------------------

# Spelling variants and irregular plurals, normalised before stemming.
_NORMALISE = {
    "randomised": "randomized", "randomisation": "randomization", "anaesthesia": "anesthesia",
    "anaesthetic": "anesthetic", "anaesthetics": "anesthetics", "behaviour": "behavior",
    "behaviours": "behaviors", "behavioural": "behavioral", "tumour": "tumor", "tumours": "tumors",
    "haemorrhage": "hemorrhage", "oestrogen": "estrogen", "paediatric": "pediatric",
    "haemoglobin": "hemoglobin", "oesophageal": "esophageal", "anaemia": "anemia",
    "analyses": "analysis", "mice": "mouse", "women": "woman", "men": "man", "children": "child",
    "teeth": "tooth", "feet": "foot", "criteria": "criterion", "phenomena": "phenomenon",
    "bacteria": "bacterium", "diagnoses": "diagnosis", "hypotheses": "hypothesis",
    "syntheses": "synthesis", "indices": "index", "matrices": "matrix", "vertebrae": "vertebra",
    "stimuli": "stimulus", "nuclei": "nucleus", "metastases": "metastasis", "prognoses": "prognosis",
}

# Porter2 merges these with unrelated words (positive/position, organ/organic, animal/animation,
# emergency/emergence...): each maps to a stem of its own. Checked against Porter2's output; the
# tests hold the pairs apart.
_OWN_STEM = {
    "position": "position", "positions": "position", "positional": "position",
    "positioned": "position", "positioning": "position",
    "organic": "organic", "organically": "organic", "organism": "organism",
    "organisms": "organism", "organization": "organiz", "organizations": "organiz",
    "organisation": "organiz", "organisations": "organiz", "organizational": "organiz",
    "animation": "animation", "animations": "animation", "animated": "animation",
    "emergency": "emergency", "emergencies": "emergency",
    "university": "university", "universities": "university",
    "police": "police", "policing": "police",
    "plasticity": "plasticity", "meaning": "meaning", "meanings": "meaning",
    "meaningful": "meaningful", "authority": "authority", "authorities": "authority",
    "rational": "rational", "rationale": "rationale", "generic": "generic", "generics": "generic",
    "general": "general", "generally": "general", "gene": "gene", "genes": "gene",
    "stimulant": "stimulant", "stimulants": "stimulant",
}


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """Porter2 (Snowball English) with spelling normalisation and the exceptions above."""
    word = _NORMALISE.get(word, word)
    if word in _OWN_STEM:
        return _OWN_STEM[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    return porter2_stem(word)


# -- tokenizing ------------------------------------------------------------------------------------


@dataclass
class RawToken:
    """One analysed token: text as indexed, position, character span in the original text."""

    text: str
    pos: int
    start: int
    end: int


def _normal_pval(raw: str) -> str:
    s = _PVAL_SPACE_RE.sub("", raw.lower()).replace("\u2264", "<=").replace("\u2265", ">=")
    m = _PVAL_RE.match(s)
    if not m:
        return s
    num = m.group(2)
    if num.startswith("."):
        num = "0" + num
    return m.group(1) + num


def _word_parts(raw: str) -> tuple[str, ...]:
    """A matched word folded, possessive and apostrophes dropped, split at its dashes."""
    word = fold(raw)
    if "'" in word or "\u2019" in word or "\u02bc" in word:
        word = _POSSESSIVE_RE.sub("", word)  # alzheimer's
        word = _APOS_RE.sub("", word)
    return tuple(p for p in _SPLIT_PARTS.split(word) if p)


def _stereo_parts(m: re.Match[str]) -> tuple[str, ...]:
    desc = _NOT_DESC_RE.sub("", fold(m.group("stereo")))
    body = fold(m.group("stword"))
    return tuple(p for p in [desc, *_SPLIT_PARTS.split(_APOS_RE.sub("", body))] if p)


# Words repeat (a few thousand distinct ones cover most of an abstract), so each distinct written
# word is folded and split once per process. Bounded: cleared when it grows past the limit.
_PARTS_CACHE: dict[str, tuple[str, ...]] = {}
_PARTS_CACHE_MAX = 500_000


def _cached_parts(raw: str) -> tuple[str, ...]:
    parts = _PARTS_CACHE.get(raw)
    if parts is None:
        if len(_PARTS_CACHE) >= _PARTS_CACHE_MAX:
            _PARTS_CACHE.clear()
        parts = _PARTS_CACHE[raw] = _word_parts(raw)
    return parts


def analyse(text: str, *, stem: bool = True, stop: bool = True,
            protected: frozenset[str] = frozenset()) -> Iterator[RawToken]:
    """Tokens of ``text`` (see the module docstring). Positions count words, not variants."""
    pos = 0
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "pval":
            yield RawToken(_normal_pval(m.group("pval")), pos, m.start(), m.end())
            pos += 1
            continue
        parts = _cached_parts(m.group()) if kind == "word" else _stereo_parts(m)
        start = m.start()
        end = m.end()
        if not parts:
            continue
        if len(parts) == 1:
            if not (stop and parts[0] in STOP_WORDS):
                yield RawToken(_stem_one(parts[0], stem, protected), pos, start, end)
                pos += 1
            continue
        for part in parts:
            yield RawToken(_stem_one(part, stem, protected), pos, start, end)
            pos += 1
        # The joined form sits at the last part's position, so a phrase typed with it
        # ("posttraumatic stress") matches text written with the hyphen, and vice versa.
        yield RawToken(_stem_one("".join(parts), stem, protected), pos - 1, start, end)


# For the index: each distinct written word's (unstemmed tokens, stemmed tokens, positions
# relative to the word's first, positions used). Bounded: cleared when it grows past the limit.
_IndexEntry = tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], int]
_INDEX_CACHE: dict[str, _IndexEntry] = {}


def _index_entry(parts: tuple[str, ...]) -> _IndexEntry:
    if not parts:
        return ((), (), (), 0)
    if len(parts) == 1:
        if parts[0] in STOP_WORDS:
            return ((), (), (), 0)
        return (parts, (stem_index_word(parts[0]),), (0,), 1)
    # The parts, then the joined form at the last part's position (as analyse() yields them).
    words = (*parts, "".join(parts))
    rel = (*range(len(parts)), len(parts) - 1)
    return (words, tuple(stem_index_word(w) for w in words), rel, len(parts))


def index_tokens(text: str) -> tuple[list[str], list[str], list[int], int]:
    """What the index analyzers make of ``text``: the unstemmed tokens (as
    ``analyse(text, stem=False)``), the same tokens stemmed (as ``analyse(text,
    protected=PROTECTED)``), their positions, and the number of positions used (where the
    positions of a text indexed after this one start).

    The indexing fast path: no token objects, one regex pass, and each distinct written word
    folded, split and stemmed once per process. index.whoosh.schema builds every field that repeats a
    record's text from these lists instead of re-analysing it per field.
    """
    words: list[str] = []
    stems: list[str] = []
    poses: list[int] = []
    cache = _INDEX_CACHE
    pos = 0
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "word":
            raw = m.group()
            entry = cache.get(raw)
            if entry is None:
                if len(cache) >= _PARTS_CACHE_MAX:
                    cache.clear()
                entry = cache[raw] = _index_entry(_word_parts(raw))
        elif kind == "pval":
            pval = _normal_pval(m.group("pval"))
            entry = ((pval,), (pval,), (0,), 1)
        else:
            entry = _index_entry(_stereo_parts(m))
        used = entry[3]
        if used == 1:
            words.append(entry[0][0])
            stems.append(entry[1][0])
            poses.append(pos)
            pos += 1
        elif used:
            words.extend(entry[0])
            stems.extend(entry[1])
            poses.extend([pos + r for r in entry[2]])
            pos += used
    return words, stems, poses, pos


_INDEX_STEMS: dict[str, str] = {}


def stem_index_word(word: str) -> str:
    """What the index analyzer (stemming, PROTECTED kept) makes of an unstemmed token."""
    stem = _INDEX_STEMS.get(word)
    if stem is None:
        if len(_INDEX_STEMS) >= _PARTS_CACHE_MAX:
            _INDEX_STEMS.clear()
        stem = _INDEX_STEMS[word] = word if word in PROTECTED else stem_word(word)
    return stem


def _stem_one(word: str, stem: bool, protected: frozenset[str]) -> str:
    if not stem or word in protected:
        return word
    return stem_word(word)


def query_variants(text: str, protected: frozenset[str] = frozenset(),
                   stem: bool = True) -> list[list[str]]:
    """For the query builder: each typed word as [joined-or-single, part1, part2...].

    A hyphenated query word yields its joined form first and then its parts, so the query can ask
    for "il6" OR the phrase "il 6"; a plain word yields a one-item list.
    """
    groups: list[list[str]] = []
    last_key: tuple[int, int] | None = None
    for tok in analyse(text, stem=stem, protected=protected):
        key = (tok.start, tok.end)
        if key == last_key:
            groups[-1].append(tok.text)
        else:
            groups.append([tok.text])
            last_key = key
    # analyse() emits the parts first and the joined form last; callers want it first.
    return [g if len(g) == 1 else [g[-1], *g[:-1]] for g in groups]


# Words the stemmer must leave alone: acronyms that end in "s" like a plural.
PROTECTED = frozenset({"aids", "sars", "mers", "ards", "gaps", "sops", "ms", "ros", "rls", "tms",
                       "ects", "cbts", "pans", "pandas", "mas", "dls", "ras", "fas", "ns", "cs"})
