"""ketlit's own parse tree of a search: what the user asked for, free of any search engine.

search/query.py parses query text into these nodes; each backend (index/whoosh/, index/solr/)
compiles the tree into what its engine runs. Nothing here knows Whoosh or Solr: fields are
ketlit's field names (index.whoosh.schema's, e.g. "title", "abstract", "mesh", "author"), namespaces
are the record's whole values (see Value), dates are plain numbers.

Nodes are frozen dataclasses, so a tree can be cached, compared in tests and shared between
threads. ``fields=None`` means "the default fields" (the whole record text, with a title bonus,
as search.query.DEFAULT_FIELDS says); the backend decides the weights of its defaults.

    Term       one word, analysed like the field's text (stemmed in text fields, ``stemmed``)
    Phrase     words in order, with ``slop`` extra positions allowed (0 = adjacent; "a b"~3 is 3)
    Prefix     truncation ``word*``: every unstemmed word beginning with ``prefix``
    Value      one whole value of the record: a heading [mh], a major heading [majr], a
               subheading [sh], a journal [ta], an id [si] [doi] [is], a subset [sb]
    DateRange  a publication (``pdate``) or Entrez (``edate``) date range, yyyymmdd inclusive
    And/Or/Not boolean structure; Not only appears inside And (PubMed's NOT is "and not")
    Alternatives  the typed node plus weighted alternatives (vocabulary synonyms, parts of a
               hyphenated word); an alternative never outweighs the typed node
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Term:
    text: str
    fields: tuple[str, ...] | None = None  # None = the default fields
    tag: str | None = None  # the tag as typed ("tiab", "au", "title:"), for messages
    stemmed: bool = True  # analysed with stemming (False: names, journals, keyword fields)
    boost: float = 1.0
    # A typed word that analyses to several ("mg/kg", "high-fat") needs all of them; False
    # (--match any, a pasted sentence): any of them, each part also counting a little alone.
    all_words: bool = True


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    fields: tuple[str, ...] | None = None
    tag: str | None = None
    slop: int = 0  # as typed after ~ (0 = adjacent); a Whoosh Phrase's slop is this + 1
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    """Truncation: ``prefix`` is matched against unstemmed words (PubMed's word*)."""

    prefix: str
    fields: tuple[str, ...] | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Value:
    """A whole value of the record under a namespace: mh, mj (major heading), sh, ta, si, doi,
    is, sb; pubtype and lang for publication types and languages (compared without case);
    design, route, drug, condition, phase for evidence-annotation labels (index.evidence: the
    ``keys`` term "design:rct", as evidence_key makes it)."""

    namespace: str
    value: str
    prefix: bool = False  # an author or heading given in part ("Krystal J[au]")


@dataclass(frozen=True)
class DateRange:
    """Inclusive yyyymmdd bounds (None = open); ``date`` is "pdate" (publication date, [dp]: a
    whole-year range and a full-date range search the same date) or "edate" ([edat], [crdt])."""

    low: int | None
    high: int | None
    date: str = "pdate"
    # Typed as whole years (2018:2020[dp]): the same records as the full dates, which a backend
    # may find through a year column; not part of the node's identity.
    years: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Alternatives:
    typed: Node
    others: tuple[tuple[Node, float], ...] = field(default_factory=tuple)  # (node, weight)


Node = Union[Term, Phrase, Prefix, Value, DateRange, And, Or, Not, Alternatives]  # noqa: UP007


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, And | Or):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)
    elif isinstance(node, Alternatives):
        yield from walk(node.typed)
        for other, _weight in node.others:
            yield from walk(other)
