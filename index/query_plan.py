"""A query at the level of the index's fields: what every backend runs, free of any engine.

index/lowering.py turns ketlit's parse tree (index.querytree: typed words in ketlit's fields) into
these nodes: analysed tokens in the index's own fields (``text``, ``title``, ``keys``, ``words``,
``year``...: index.whoosh.schema's names, which the Solr collection shares), with the weights of
default fields and synonyms applied. Each backend maps them one to one onto its own query objects
(index/whoosh/compile.py, index/solr/translate.py), so both backends run the same query.

    Term(field, text, boost)         one indexed token (or a keyword value)
    Phrase(field, words, slop)       tokens in order, ``slop`` extra positions (0 = adjacent)
    Prefix(field, text)              every indexed token beginning with ``text``
    Wildcard(field, pattern)         ``*`` and ``?`` inside a token
    Range(field, low, high)          inclusive numeric bounds (None = open)
    And / Or / AndNot / AndMaybe / Not   boolean structure; scores add up
    Alternatives(items)              an Or whose first item is what the user typed and the rest
                                     its vocabulary expansions: a backend may cap the expansions'
                                     weight (the Whoosh engine does) or score it as an Or
    Every()                          every record (browsing)

``str()`` of a node is the key that tells two alternatives apart (the same text as Whoosh's
own ``str`` of the query it compiles to, which decided it before this module existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


def _num(boost: float) -> str:
    return str(float(boost))


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0

    def __str__(self) -> str:
        return f"{self.field}:{self.text}" + (f"^{_num(self.boost)}" if self.boost != 1 else "")


@dataclass(frozen=True)
class Phrase:
    field: str
    words: tuple[str, ...]
    slop: int = 0  # extra positions allowed between the words (0 = adjacent)
    boost: float = 1.0

    def __str__(self) -> str:
        return f'{self.field}:"{" ".join(self.words)}"'


@dataclass(frozen=True)
class Prefix:
    field: str
    text: str
    boost: float = 1.0

    def __str__(self) -> str:
        return f"{self.field}:{self.text}*"


@dataclass(frozen=True)
class Wildcard:
    field: str
    pattern: str
    boost: float = 1.0

    def __str__(self) -> str:
        return f"{self.field}:{self.pattern}"


@dataclass(frozen=True)
class Range:
    field: str
    low: int | None
    high: int | None

    def __str__(self) -> str:
        return f"{self.field}:[{self.low} TO {self.high}]"


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Alternatives:
    items: tuple[Node, ...]  # the typed form first

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class AndNot:
    positive: Node
    negative: Node

    def __str__(self) -> str:
        return f"({self.positive} ANDNOT {self.negative})"


@dataclass(frozen=True)
class AndMaybe:
    required: Node
    optional: Node

    def __str__(self) -> str:
        return f"({self.required} ANDMAYBE {self.optional})"


@dataclass(frozen=True)
class Not:
    item: Node

    def __str__(self) -> str:
        return f"NOT {self.item}"


@dataclass(frozen=True)
class Every:
    def __str__(self) -> str:
        return "*"


Node = Union[Term, Phrase, Prefix, Wildcard, Range, And, Or, Alternatives,  # noqa: UP007
             AndNot, AndMaybe, Not, Every]


def leaves(node: Node) -> list[Node]:
    """The leaf nodes of a plan (terms, phrases, prefixes, ranges...), left to right."""
    if isinstance(node, And | Or | Alternatives):
        return [leaf for item in node.items for leaf in leaves(item)]
    if isinstance(node, AndNot):
        return leaves(node.positive) + leaves(node.negative)
    if isinstance(node, AndMaybe):
        return leaves(node.required) + leaves(node.optional)
    if isinstance(node, Not):
        return leaves(node.item)
    return [node]


def iter_terms(node: Node) -> list[tuple[str, str]]:
    """(field, token) of every Term and Phrase word in the plan (highlighting, tests)."""
    out: list[tuple[str, str]] = []
    for leaf in leaves(node):
        if isinstance(leaf, Term):
            out.append((leaf.field, leaf.text))
        elif isinstance(leaf, Phrase):
            out.extend((leaf.field, w) for w in leaf.words)
    return out
