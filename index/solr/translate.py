"""A lowered ketlit query (index.query_plan, from the parse tree by index.lowering) in Solr's
standard syntax, and the searcher's filters as Solr filter queries.

The words in the plan are already analysed by ketlit (index.analysis), and the Solr text fields
analyse queries by whitespace only (configset/schema.xml), so each term reaches Lucene as ketlit
made it. Scoring follows the plan: And/Or sum their parts' scores (Lucene's BooleanQuery does the
same), boosts are kept, filters score nothing; Alternatives is an Or here (no cap on expansions).

Only plan nodes are accepted; anything else is a bug (TypeError), never a silently different
query.
"""

from __future__ import annotations

import re
from typing import Any

from index import query_plan as qp
from index.backend import Filters
from index.evidence import LABEL_FACETS, evidence_key

_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|<>=\s])')
_WILD_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~:\\/&|<>=\s])')  # keeps * and ?

MATCH_ALL = "*:*"
MATCH_NONE = "-*:*"


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _boost(q: Any, s: str) -> str:
    b = getattr(q, "boost", 1.0)
    if b is None or b == 1.0:
        return s
    # Lucene refuses negative boosts; ketlit never makes them. 0 keeps the clause scoreless.
    return f"({s})^{max(float(b), 0.0):g}"


def to_solr(q: qp.Node) -> str:
    """The Solr query string for ``q``."""
    if isinstance(q, qp.Every):
        return MATCH_ALL
    if isinstance(q, qp.Term):
        return _boost(q, f"{q.field}:{_quote_if_needed(q.field, _text(q.text))}")
    if isinstance(q, qp.Phrase):
        words = " ".join(escape(_text(w)) for w in q.words)
        tail = f"~{q.slop}" if q.slop > 0 else ""
        return _boost(q, f'{q.field}:"{words}"{tail}')
    if isinstance(q, qp.Prefix):
        return _boost(q, f"{q.field}:{escape(_text(q.text))}*")
    if isinstance(q, qp.Wildcard):
        pattern = _WILD_SPECIAL.sub(r"\\\1", _text(q.pattern))
        return _boost(q, f"{q.field}:{pattern}")
    if isinstance(q, qp.Range):
        lo = "*" if q.low is None else str(int(q.low))
        hi = "*" if q.high is None else str(int(q.high))
        return f"{q.field}:[{lo} TO {hi}]"
    if isinstance(q, qp.AndNot):
        return f"(+({to_solr(q.positive)}) -({to_solr(q.negative)}))"
    if isinstance(q, qp.AndMaybe):
        return f"(+({to_solr(q.required)}) ({to_solr(q.optional)}))"
    if isinstance(q, qp.Not):
        return f"(*:* -({to_solr(q.item)}))"
    if isinstance(q, qp.And):
        return "(" + " ".join(f"+({to_solr(c)})" for c in q.items) + ")"
    if isinstance(q, qp.Or | qp.Alternatives):
        return "(" + " OR ".join(f"({to_solr(c)})" for c in q.items) + ")"
    raise TypeError(f"no Solr translation for {type(q).__name__}: {q!r}")


def filter_queries(filters: Filters) -> list[str]:
    """One Solr filter query (``fq``: selects, scores nothing, cached by Solr) per filter."""
    fq: list[str] = []
    if filters.topics:
        fq.append(_any("topic", filters.topics))
    if filters.year_from is not None or filters.year_to is not None:
        fq.append(to_solr(qp.Range("year", filters.year_from, filters.year_to)))
    if filters.types:
        fq.append(_any("pubtype", filters.types))
    if filters.languages:
        fq.append(_any("lang", filters.languages))
    if filters.has_abstract:
        fq.append("hasabs:true")
    for name in LABEL_FACETS:  # evidence annotations: any of a facet's labels
        labels = getattr(filters, name)
        if labels:
            fq.append(_any("keys", tuple(evidence_key(name, v) for v in labels)))
    if filters.min_participants is not None:
        fq.append(to_solr(qp.Range("participants", filters.min_participants, None)))
    if filters.exclude_retracted:
        fq.append("-retracted:true")
    return fq


def _any(field: str, values: tuple[str, ...]) -> str:
    return to_solr(qp.Or(tuple(qp.Term(field, v) for v in values)) if len(values) > 1
                   else qp.Term(field, values[0]))


_STRING_FIELDS = frozenset({"pmid", "pubtype", "lang", "topic", "keys", "words"})


def _quote_if_needed(field: str, text: str) -> str:
    if field in _STRING_FIELDS:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escape(text)
