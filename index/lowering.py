"""Lowering: ketlit's parse tree (index.querytree) -> a query over the index's fields
(index.query_plan), the same for every backend.

This is where a typed word becomes what the index holds: analysed like the field's text
(index.analysis: stemmed, a hyphenated word as its joined form or its parts as a phrase), spread
over the default fields with their weights, widened by the vocabulary's synonyms (a lower weight;
the typed form first, so a backend can keep an expansion from outweighing it), truncation looked
up among unstemmed words, whole values ([mh], [au], [ta], ...) as namespaced ``keys``, dates as
numeric ranges. It also collects the analysed words a searcher marks in snippets and offers to
correct. Errors with positions are the parser's (search/query.py checks them before lowering):
here a tree that analyses to nothing (stop words only) lowers to ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from index import query_plan as qp
from index import querytree as qt
from index.analysis import PROTECTED, fold, query_variants
from index.evidence import LABEL_FACETS, evidence_key
from index.record_keys import WORD_PARTS, key_text

# Default fields and their weights when a term has no tag: the whole record text, plus a title
# bonus (weights measured on the relevance benchmark, bench/README.md).
DEFAULT_FIELDS: dict[str, float] = {"text": 1.0, "title": 0.2}
SYNONYM_BOOST = 0.5
PART_BOOST = 0.1  # a part of a hyphenated word, under --match any (bench/README.md, relevance)
# Proximity evidence: adjacent query words found near each other in the text add this share of
# their score (measured on the relevance benchmark; 0 turns it off).
PROXIMITY_WEIGHT = 0.0
PROXIMITY_SLOP = 2  # extra positions between the two words
PROXIMITY_FIELD = "text"
MAX_PROXIMITY_PAIRS = 12
UNSTEMMED_FIELDS = frozenset({"author", "journal", "spell"})  # names: see index.whoosh.schema
_ISSN_RE = re.compile(r"^\d{4}-\d{3}[\dXx]$")

Expression = tuple[tuple[str, ...], ...]  # analysed token groups (search.vocabulary)


class Expansions(Protocol):
    """What lowering needs of the vocabulary (search.vocabulary.Vocabulary)."""

    max_len: int

    def expansions(self, key: tuple[str, ...]) -> tuple[Expression, ...]: ...


@dataclass
class Lowered:
    plan: qp.Node | None  # None: nothing searchable (see only_stops)
    highlight: frozenset[str]  # analysed tokens to mark in snippets
    words: tuple[str, ...]  # analysed positive words, for "did you mean"
    raw: tuple[str, ...]  # the positive words as typed
    only_stops: bool  # something was dropped as a stop word


@dataclass
class _Ctx:
    highlight: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)  # default-field words in typed order
    only_stops: bool = False


def key_of(expr: Expression) -> tuple[str, ...]:
    return tuple(g[0] for g in expr)


def is_wild(text: str) -> bool:
    # A trailing "?" is punctuation in a pasted question, not a wildcard.
    return "*" in text or "?" in text.rstrip("?")


def stemmed(fields: tuple[str, ...] | None) -> bool:
    return not (fields and set(fields) <= UNSTEMMED_FIELDS)


class Lowering:
    """Lowers trees with one vocabulary and one set of weights (bench/relevance.py varies them)."""

    def __init__(self, vocabulary: Expansions, default_fields: dict[str, float] | None = None,
                 synonym_boost: float = SYNONYM_BOOST) -> None:
        self.vocab = vocabulary
        self.default_fields = dict(default_fields or DEFAULT_FIELDS)
        self.synonym_boost = synonym_boost
        self.proximity_weight = PROXIMITY_WEIGHT
        self.proximity_slop = PROXIMITY_SLOP

    def lower(self, tree: qt.Node) -> Lowered:
        if not isinstance(tree, qt.And | qt.Or):
            tree = qt.And((tree,))  # so a lone word gets its synonyms
        ctx = _Ctx()
        plan = self._node(tree, ctx, negated=False)
        if plan is not None:
            plan = self._with_proximity(plan, ctx)
        return Lowered(plan, frozenset(ctx.highlight), tuple(dict.fromkeys(ctx.words)),
                       tuple(dict.fromkeys(ctx.raw)), ctx.only_stops)

    def _with_proximity(self, q: qp.Node, ctx: _Ctx) -> qp.Node:
        """Adds optional evidence for query words that occur close together in a record."""
        if self.proximity_weight <= 0 or PROXIMITY_FIELD not in self.default_fields:
            return q
        seq = ctx.sequence
        pairs = list(dict.fromkeys((a, b) for a, b in zip(seq, seq[1:], strict=False) if a != b))
        pairs = pairs[:MAX_PROXIMITY_PAIRS]
        if not pairs:
            return q
        near = [qp.Phrase(PROXIMITY_FIELD, (a, b), slop=self.proximity_slop,
                          boost=self.proximity_weight) for a, b in pairs]
        return qp.AndMaybe(q, near[0] if len(near) == 1 else qp.Or(tuple(near)))

    # Each _node returns None when the node analyses to nothing (stop words only).
    def _node(self, node: qt.Node, ctx: _Ctx, negated: bool) -> qp.Node | None:
        if isinstance(node, qt.And | qt.Or):
            return self._group(node, ctx, negated)
        if isinstance(node, qt.Not):
            return self._node(node.item, ctx, True)
        if isinstance(node, qt.Phrase):
            return self._phrase(node, ctx, negated)
        if isinstance(node, qt.Term):
            return self._term(node, ctx, negated)
        if isinstance(node, qt.Prefix):
            return self._wild(node.prefix + "*", node.fields, ctx, negated)
        if isinstance(node, qt.Value):
            return _value(node)
        if isinstance(node, qt.DateRange):
            return _date(node)
        if isinstance(node, qt.Alternatives):
            alts = [self._node(node.typed, ctx, negated)]
            alts += [_boosted(self._node(o, ctx, negated), w) for o, w in node.others]
            return _or_unique([a for a in alts if a is not None], typed_first=True) \
                if alts[0] is not None else None
        raise TypeError(f"not a query tree node: {node!r}")

    def _group(self, node: qt.And | qt.Or, ctx: _Ctx, negated: bool) -> qp.Node | None:
        pos: list[qp.Node] = []
        neg: list[qp.Node] = []
        items = [(isinstance(n, qt.Not), n.item if isinstance(n, qt.Not) else n)
                 for n in node.items]
        i = 0
        while i < len(items):
            is_neg, child = items[i]
            run = self._synonym_run(items, i)
            if run:
                n, q = run
                i += n
                (neg if is_neg else pos).append(q)
                self._remember_run(items[i - n:i], ctx, negated or is_neg)
                if not (negated or is_neg):  # synonyms found are marked in snippets too
                    ctx.highlight.update(t for _f, t in qp.iter_terms(q) if len(t) >= 3)
                continue
            q = self._node(child, ctx, negated or is_neg)
            i += 1
            if q is not None:
                (neg if is_neg else pos).append(q)
        if not pos and not neg:
            return None
        if not pos:
            # Only exclusions ("NOT review[pt]"): everything except them.
            return qp.Not(qp.Or(tuple(neg)) if len(neg) > 1 else neg[0])
        base = pos[0] if len(pos) == 1 else (
            qp.And(tuple(pos)) if isinstance(node, qt.And) else qp.Or(tuple(pos)))
        if neg:
            return qp.AndNot(base, qp.Or(tuple(neg)) if len(neg) > 1 else neg[0])
        return base

    def _remember_run(self, items: Sequence[tuple[bool, qt.Node]], ctx: _Ctx,
                      negated: bool) -> None:
        for _neg, child in items:
            if isinstance(child, qt.Term) and not negated:
                for g in query_variants(child.text, PROTECTED):
                    ctx.highlight.update(g)
                    ctx.words.append(g[0])
                    if child.fields is None:
                        ctx.sequence.extend(g[1:] if len(g) > 1 else g)
                ctx.raw.append(child.text)

    def _synonym_run(self, items: list[tuple[bool, qt.Node]], i: int
                     ) -> tuple[int, qp.Node] | None:
        """Longest run of plain words starting at i that is a vocabulary expression."""
        first_neg = items[i][0]
        run: list[qt.Term] = []
        for neg, child in items[i:i + self.vocab.max_len]:
            if (neg != first_neg or not isinstance(child, qt.Term) or child.tag is not None
                    or is_wild(child.text)):
                break
            if run and (child.fields != run[0].fields):
                break
            run.append(child)
        keys: list[str] = []
        ends: list[int] = []  # number of run items consumed for each key length
        for n, child in enumerate(run, 1):
            groups = query_variants(child.text, PROTECTED)
            keys.extend(g[0] for g in groups)
            ends.extend([n] * len(groups))
        for length in range(min(len(keys), self.vocab.max_len), 0, -1):
            if length < len(keys) and ends[length] == ends[length - 1]:
                continue  # a key must end where a typed word ends
            exprs = self.vocab.expansions(tuple(keys[:length]))
            if exprs:
                fields = self._fields(run[0].fields)
                own = tuple(keys[:length])
                alts = []
                # The expression as typed first, so deduplication keeps its full weight.
                for expr in sorted(exprs, key=lambda e: key_of(e) != own):
                    boost = 1.0 if key_of(expr) == own else self.synonym_boost
                    q = _expression(expr, fields, boost, slop=0)
                    if q is not None:
                        alts.append(q)
                if not alts:
                    return None
                typed = any(key_of(e) == own for e in exprs)
                return ends[length - 1], _or_unique(alts, typed_first=typed)
        return None

    def _fields(self, fields: tuple[str, ...] | None) -> dict[str, float]:
        if fields is None:
            return self.default_fields
        return {f: 1.0 for f in fields}

    def _term(self, node: qt.Term, ctx: _Ctx, negated: bool) -> qp.Node | None:
        fields = node.fields
        if is_wild(node.text):
            return self._wild(node.text, fields, ctx, negated)
        groups = query_variants(node.text, PROTECTED, stem=node.stemmed)
        if not groups:
            if fold(node.text).strip().isalnum():
                ctx.only_stops = True
            return None
        if not negated:
            for g in groups:
                ctx.highlight.update(g)
                ctx.words.append(g[0])
                if fields is None:
                    ctx.sequence.extend(g[1:] if len(g) > 1 else g)
            ctx.raw.append(node.text)
        fmap = self._fields(fields)
        parts = [_expression([g], fmap, node.boost, 0) for g in groups]
        if not node.all_words:
            # --match any: a hyphenated or alphanumeric word ("high-fat", "IGF-1") also counts
            # by each of its parts, a little less than the word itself.
            parts += [_expression([(p,)], fmap, PART_BOOST, 0)
                      for g in groups if len(g) > 2 for p in g[1:] if len(p) > 1]
        qs = [p for p in parts if p is not None]
        if len(qs) == 1:
            return qs[0]
        # "mg/kg", "throughput(CPT)": one typed word that holds several words.
        return qp.And(tuple(qs)) if node.all_words else qp.Or(tuple(qs))

    def _phrase(self, node: qt.Phrase, ctx: _Ctx, negated: bool) -> qp.Node | None:
        fields = node.fields
        text = " ".join(node.words)
        groups = query_variants(text, PROTECTED, stem=stemmed(fields))
        if not groups:
            ctx.only_stops = True
            return None
        if not negated:
            for g in groups:
                ctx.highlight.update(g)
                ctx.words.append(g[0])
            ctx.raw.extend(node.words)
        fmap = self._fields(fields)
        main = _expression([tuple(g) for g in groups], fmap, node.boost, node.slop)
        exprs = self.vocab.expansions(tuple(g[0] for g in groups))
        if not exprs or main is None:
            return main
        if not negated:
            for expr in exprs:
                for g in expr:
                    ctx.highlight.update(t for t in g if len(t) >= 3)
        alts = [main]
        own = tuple(g[0] for g in groups)
        for expr in exprs:
            if key_of(expr) != own:
                q = _expression(expr, fmap, self.synonym_boost, 0)
                if q is not None:
                    alts.append(q)
        return _or_unique(alts, typed_first=True)

    def _wild(self, text: str, fields: tuple[str, ...] | None, ctx: _Ctx,
              negated: bool) -> qp.Node:
        """Truncation: every word that begins with the letters typed, matched against the
        unstemmed words of each field the tag covers (index.whoosh.schema ``words``), so that
        ``functional*`` finds "functional" and "functionality" although they stem to
        "function". The parser has checked PubMed's minimum of letters; the engine caps the
        variants (and says so)."""
        stem = re.sub(r"[^0-9a-z*?]", "", fold(text))
        if not negated:
            ctx.raw.append(text)
        qs: list[qp.Node] = []
        for f, w in self._fields(fields).items():
            for fname, pattern in _unstemmed(f, stem):
                if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
                    qs.append(qp.Prefix(fname, pattern[:-1], boost=w))
                else:
                    qs.append(qp.Wildcard(fname, pattern, boost=w))
        return qs[0] if len(qs) == 1 else qp.Or(tuple(qs))


def _value(node: qt.Value) -> qp.Node:
    """A whole value: a term of the index's ``keys`` field under its namespace, or a keyword
    field (publication type, language, pmid, topic)."""
    ns, value = node.namespace, " ".join(node.value.split())
    if ns in ("pubtype", "lang", "pmid", "topic"):
        return qp.Term(ns, value)
    if ns == "sb":
        return qp.Term("keys", "sb:" + value)
    if ns in LABEL_FACETS:  # an evidence label, normalised by the parser (index.evidence)
        return qp.Term("keys", evidence_key(ns, value))
    if ns == "au":
        return qp.Prefix("keys", "au:" + key_text(value))
    if ns == "ta":
        if _ISSN_RE.match(value):
            ns = "is"
        else:
            value = value.replace(".", " ")
    text = key_text(value)
    if ns in ("mh", "mj") and "/" in text:
        ns = "mq"  # Descriptor/qualifier, as PubMed writes it: ketamine/therapeutic use[mh].
    if text.endswith("*") or node.prefix:
        return qp.Prefix("keys", f"{ns}:{text.rstrip('*').rstrip()}")
    return qp.Term("keys", f"{ns}:{text}")


def _date(node: qt.DateRange) -> qp.Node:
    if node.date == "edate":
        return qp.Range("edate", node.low, node.high)
    if node.years:  # typed as whole years: the year column (the same records, pub_date_key)
        return qp.Range("year", None if node.low is None else node.low // 10000,
                        None if node.high is None else node.high // 10000)
    return qp.Range("pdate", node.low, node.high)


def _boosted(q: qp.Node | None, weight: float) -> qp.Node | None:
    if q is None or weight == 1.0:
        return q
    if isinstance(q, qp.Term | qp.Phrase | qp.Prefix | qp.Wildcard):
        return type(q)(*[getattr(q, f) for f in q.__dataclass_fields__ if f != "boost"],
                       boost=q.boost * weight)  # type: ignore[call-arg]
    return q


def _unstemmed(fieldname: str, pattern: str) -> list[tuple[str, str]]:
    """(field, pattern) pairs that match ``pattern`` against unstemmed words of ``fieldname``."""
    if fieldname == "text":
        return [("words", f"{ns}:{pattern}") for ns in WORD_PARTS.values()]
    if fieldname in WORD_PARTS:
        return [("words", f"{WORD_PARTS[fieldname]}:{pattern}")]
    return [(fieldname, pattern)]  # author, journal, spell: unstemmed already


def _or_unique(alts: list[qp.Node], typed_first: bool = False) -> qp.Node:
    """Or of alternatives, dropping those that lower to the same query as an earlier one.
    ``typed_first``: the first is what the user typed and the rest its vocabulary expansions,
    which then never outweigh it (qp.Alternatives)."""
    seen: dict[str, qp.Node] = {}
    for q in alts:
        seen.setdefault(str(q), q)  # the first (strongest) wins
    out = tuple(seen.values())
    if len(out) == 1:
        return out[0]
    return qp.Alternatives(out) if typed_first else qp.Or(out)


def _word_query(fieldname: str, group: Sequence[str], boost: float) -> qp.Node:
    if len(group) == 1:
        return qp.Term(fieldname, group[0], boost=boost)
    # A hyphenated word: its joined form, or its parts as a phrase ("il6" | "il 6").
    return qp.Or((qp.Term(fieldname, group[0], boost=boost),
                  qp.Phrase(fieldname, tuple(group[1:]), boost=boost)))


def _expression(expr: Sequence[Sequence[str]], fields: dict[str, float], boost: float,
                slop: int) -> qp.Node | None:
    """An analysed expression (token groups) as a query over fields."""
    if not expr:
        return None
    per_field: list[qp.Node] = []
    for f, w in fields.items():
        if len(expr) == 1:
            q = _word_query(f, expr[0], w * boost)
        else:
            words: list[str] = []
            for g in expr:
                words.extend(g[1:] if len(g) > 1 else g)
            q = qp.Phrase(f, tuple(words), slop=slop, boost=w * boost)
        per_field.append(q)
    return per_field[0] if len(per_field) == 1 else qp.Or(tuple(per_field))
