"""The query language: Whoosh's syntax plus PubMed field tags, parsed to ketlit's own tree.

    ketamine AND (depression OR "suicidal ideation") NOT review[pt]
    esketamine randomized controlled trial[pt] 2019:2021[dp]
    Zarate CA[au] AND hnk[tiab]      title:ketamine      depress*      year:[2015 TO 2020]

Our own parser rather than Whoosh's QueryParser, because Whoosh's parser never fails: it
silently reinterprets an unbalanced parenthesis or an unknown tag, and a researcher then trusts a
wrong result. Here a malformed query raises QueryError naming the character where it goes wrong.

Rules (PubMed's where they differ from Whoosh's): terms are ANDed (``match="any"`` ORs them, for
pasted sentences); AND binds tighter than OR; ``NOT``/``-`` exclude; a tag after several plain
words takes a publication type ("ketamine randomized controlled trial[pt]"), a name with its
initials ("Smith J[au]") or a journal title, otherwise the last word (quote phrases:
"major depression"[tiab]); truncation needs three letters before ``*``.

The steps: search.query_lexer (tokens), search.query_parser (nodes with positions),
``parse_tree`` here (ketlit's tree, index.querytree, every positional error raised), then
index.lowering (analysis, fields and weights, vocabulary synonyms: a hyphenated word matches its
joined form or its parts as a phrase, synonyms are alternatives with a lower weight), which each
backend compiles (index/whoosh/compile.py, index/solr/translate.py). ``QueryBuilder.build`` runs
them all but the backend's step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index import query_plan as qp
from index import querytree as qt
from index.analysis import fold
from index.errors import QueryError
from index.evidence import LABEL_FACETS, normalise_label
from index.lowering import (
    DEFAULT_FIELDS,
    PART_BOOST,
    PROXIMITY_WEIGHT,
    SYNONYM_BOOST,
    Lowering,
)
from index.lowering import is_wild as _is_wild
from index.lowering import stemmed as _stemmed
from index.record_keys import key_text
from search.query_lexer import _FIELD_RE, _STEREO_AT, query_error
from search.query_parser import GroupNode, Node, Parser, PhraseNode, TermNode, author_key
from search.query_syntax import (
    AUTHOR_TAGS,
    ENTREZ_DATE_TAGS,
    FIELDS,
    FILTER_WORDS,
    ISSN_RE,
    KEY_TAGS,
    KEYWORD_FIELDS,
    MAX_DEPTH,
    MAX_SLOP,
    MIN_PREFIX,
    SUBSETS,
    TAGS,
    known_tags,
)
from search.vocabulary import Vocabulary, load_vocabulary

__all__ = ["DEFAULT_FIELDS", "MAX_DEPTH", "MAX_SLOP", "PART_BOOST", "PROXIMITY_WEIGHT",
           "SYNONYM_BOOST", "TAGS", "CompiledQuery", "QueryBuilder", "as_text", "known_tags",
           "parse_tree"]


@dataclass
class CompiledQuery:
    tree: qt.Node | None  # ketlit's parse tree (None: browsing, every record)
    plan: qp.Node  # the same lowered to the index's fields, what a backend compiles
    highlight_terms: frozenset[str]  # analysed tokens to mark in snippets
    text_terms: tuple[str, ...]  # analysed positive words, for "did you mean"
    raw_words: tuple[str, ...]  # the positive words as typed


BROWSE = CompiledQuery(None, qp.Every(), frozenset(), (), ())


class QueryBuilder:
    """Query text -> CompiledQuery: parse (errors with positions), then lower (see the module
    docstring). The lowering's weights are attributes, so the relevance benchmark can vary them."""

    def __init__(self, vocabulary: Vocabulary | None = None,
                 default_fields: dict[str, float] | None = None,
                 synonym_boost: float = SYNONYM_BOOST) -> None:
        self.vocab = vocabulary or load_vocabulary()
        self.lowering = Lowering(self.vocab, default_fields, synonym_boost)

    @property
    def default_fields(self) -> dict[str, float]:
        return self.lowering.default_fields

    @default_fields.setter
    def default_fields(self, value: dict[str, float]) -> None:
        self.lowering.default_fields = dict(value)

    @property
    def synonym_boost(self) -> float:
        return self.lowering.synonym_boost

    @synonym_boost.setter
    def synonym_boost(self, value: float) -> None:
        self.lowering.synonym_boost = value

    @property
    def proximity_weight(self) -> float:
        return self.lowering.proximity_weight

    @proximity_weight.setter
    def proximity_weight(self, value: float) -> None:
        self.lowering.proximity_weight = value

    def build(self, text: str, match: str = "all") -> CompiledQuery:
        tree = parse_tree(text, self.vocab, match)
        lowered = self.lowering.lower(tree)
        if lowered.plan is None:
            text = _query_text(text, match)
            if lowered.only_stops:
                raise QueryError(f"query: '{text}' has only stop words (words too common to "
                                 "be indexed, like 'the' or 'of'); add a more specific word")
            raise QueryError(f"query: nothing searchable in '{text}'")
        return CompiledQuery(tree, lowered.plan, lowered.highlight, lowered.words, lowered.raw)


# -- the backend-neutral tree (index.querytree) ---------------------------------------------------


def parse_tree(text: str, vocabulary: Vocabulary | None = None,
               match: str = "all") -> qt.Node:
    """Query text -> ketlit's own parse tree (index.querytree). Every error that can point at a
    character is raised here (QueryError); vocabulary expansion and analysis are the lowering's
    (index.lowering), which each backend's compiler starts from."""
    text = _query_text(text, match)
    vocab = vocabulary or load_vocabulary()
    node = Parser(text, "and" if match == "all" else "or", vocab).parse()
    return _to_tree(node, text, vocab, match == "all")


def _to_tree(node: Node, query: str, vocab: Vocabulary, all_words: bool) -> qt.Node:
    if isinstance(node, GroupNode):
        items = tuple(qt.Not(_to_tree(n, query, vocab, all_words)) if neg
                      else _to_tree(n, query, vocab, all_words) for neg, n in node.items)
        return qt.And(items) if node.op == "and" else qt.Or(items)
    assert isinstance(node, TermNode | PhraseNode)
    fields, tag, value = node.fields, node.tag, node.text.strip()
    if tag in KEY_TAGS and KEY_TAGS[tag] in LABEL_FACETS:
        return qt.Value(KEY_TAGS[tag], _evidence_label(KEY_TAGS[tag], value, query, node.pos, tag))
    if tag in KEY_TAGS:
        return _key_tree(node, query)
    if tag in AUTHOR_TAGS and author_key(value):
        return qt.Value("au", value, prefix=True)
    if tag is None and fields is None and isinstance(node, TermNode) \
            and fold(value) in FILTER_WORDS:
        return qt.Value("sb", SUBSETS[fold(value)])
    if fields == ("year",):
        return _date_tree(value, tag, query, node.pos)
    if fields and fields[0] in KEYWORD_FIELDS:
        value = " ".join(value.split())
        if fields == ("pubtype",):
            return qt.Value("pubtype", vocab.publication_type(value).lower())
        if fields == ("lang",):
            return qt.Value("lang", vocab.language(value))
        return qt.Value(fields[0], value)
    if isinstance(node, PhraseNode):
        return qt.Phrase(tuple(value.split()), fields, tag, slop=node.slop - 1)
    if _is_wild(value):
        _check_truncation(node, query)
        if value.endswith("*") and "*" not in value[:-1] and "?" not in value:
            return qt.Prefix(value[:-1], fields, tag)
    return qt.Term(value, fields, tag, stemmed=_stemmed(fields), all_words=all_words)


def _check_truncation(node: TermNode, query: str) -> None:
    text = fold(node.text)
    first = min(i for i, c in enumerate(text) if c in "*?")
    if len(re.sub(r"[^0-9a-z]", "", text[:first])) < MIN_PREFIX:
        raise query_error(query, node.pos + first,
                   f"truncation needs at least {MIN_PREFIX} letters before '*' or '?'")


def _evidence_label(facet: str, value: str, query: str, pos: int, tag: str) -> str:
    """The annotation label a tagged value names, or a QueryError listing the known ones."""
    if not value.strip():
        raise query_error(query, pos, f"[{tag}] has nothing before it")
    try:
        return normalise_label(facet, value)
    except ValueError as exc:
        raise query_error(query, pos, f"{exc} in {value}[{tag}]") from None


def _key_tree(node: TermNode | PhraseNode, query: str) -> qt.Value:
    """A tagged whole value (KEY_TAGS), checked as the index will look it up (index.lowering)."""
    assert node.tag is not None
    ns = KEY_TAGS[node.tag]
    value = " ".join(node.text.split())
    if ns == "sb":
        subset = SUBSETS.get(fold(value))
        if subset is None:
            known = ", ".join(sorted(set(SUBSETS)))
            raise query_error(query, node.pos,
                       f"unknown subset or filter {value!r}[{node.tag}] (known: {known})")
        return qt.Value("sb", subset)
    text = key_text(value.replace(".", " ") if ns == "ta" and not ISSN_RE.match(value)
                    else value)
    if text.endswith("*"):
        head = text.rstrip("*").rstrip()
        if len(re.sub(r"[^0-9a-z]", "", head)) < MIN_PREFIX:
            raise query_error(query, node.pos,
                       f"truncation needs at least {MIN_PREFIX} letters before '*'")
    elif not text:
        raise query_error(query, node.pos, f"[{node.tag}] has nothing before it")
    return qt.Value(ns, node.text.strip())


_DATE_PART = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")
_YEAR_MIN, _YEAR_MAX = 1000, 2999


def _date_bound(text: str, upper: bool) -> tuple[int, int] | None:
    """(year, yyyymmdd) for YYYY, YYYY/MM or YYYY/MM/DD; the bound's first or last day."""
    m = _DATE_PART.match(text.strip())
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else (12 if upper else 1)
    d = int(m.group(3)) if m.group(3) else (31 if upper else 1)
    if not (_YEAR_MIN <= y <= _YEAR_MAX and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return y, y * 10000 + mo * 100 + d


def _date_tree(value: str, tag: str | None, query: str, pos: int) -> qt.DateRange:
    """2019, 2019:2021, 2019/06:2020/03/15, 2019-2021 ([dp] and year:) as inclusive yyyymmdd
    bounds. [dp] searches the publication date (PubDate), [edat] and [crdt] the Entrez date."""
    value = " ".join(value.split())
    text = value.replace(" ", "").replace('"', "")
    lo_s, sep, hi_s = (text.partition(":") if ":" in text else
                       (text.partition("-") if re.match(r"^\d{4}-\d{4}$", text) else
                        (text, "", "")))
    lo = _date_bound(lo_s, upper=False) if lo_s else None
    hi = _date_bound(hi_s if sep else lo_s, upper=True) if (hi_s or not sep) else None
    if (lo_s and lo is None) or (sep and hi_s and hi is None) or (not lo_s and not hi_s):
        raise query_error(query, pos, f"bad date {value!r} (expected YYYY, YYYY/MM/DD or FROM:TO)")
    if lo and hi and lo[1] > hi[1]:
        raise query_error(query, pos, f"date range {value!r} ends before it starts")
    precise = any("/" in x or re.match(r"^\d{4}-\d", x or "") for x in (lo_s, hi_s))
    return qt.DateRange(lo[1] if lo else None, hi[1] if hi else None,
                        "edate" if tag in ENTREZ_DATE_TAGS else "pdate", years=not precise)


_OPERATOR_WORDS = {"AND", "OR", "NOT", "ANDNOT", "&&", "||"}
_TEXT_DROP = str.maketrans({c: " " for c in '"\u201c\u201d[]{}~*^?'})
_IN_WORD_PARENS = re.compile(r"^[^()]*\w\([^()\s]+\)[^()]*$")  # apo(a), chaperone(s)


def _query_text(text: str, match: str) -> str:
    """The text the parser reads: checked, stripped, and read as plain words for ``any``."""
    if match not in ("all", "any"):
        raise QueryError(f"query: match must be 'all' or 'any', not {match!r}")
    text = text.strip()
    if match == "any":
        text = as_text(text)
    if not text:
        raise QueryError("query: the query is empty; give some words to search for")
    return text


def as_text(query: str) -> str:
    """``--match any`` reads its text as text (a question or a claim pasted as a sentence):
    quotes, brackets, parentheses that are not part of a word ("(R)-ketamine", "apo(a)"),
    operators, wildcards, proximity and field prefixes become plain words, so "1)", "vs." or an
    unbalanced parenthesis are never syntax errors."""
    words = []
    for raw in query.translate(_TEXT_DROP).split():
        word = raw
        if word in _OPERATOR_WORDS:
            word = word.lower()
        if not (_STEREO_AT.match(word) or _IN_WORD_PARENS.match(word)):
            word = word.replace("(", " ").replace(")", " ")
        parts = []
        for part in word.split():
            part = part.lstrip("-+!").rstrip(":")
            m = _FIELD_RE.match(part)
            if m and m.group(1).lower() in FIELDS:
                part = f"{m.group(1)} {m.group(2)}"
            if part:
                parts.append(part)
        words.extend(parts)
    return " ".join(words)
