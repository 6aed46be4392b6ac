"""A compiled ketlit query (search.query's tree of Whoosh query objects) in Solr's standard syntax.

The words in the tree are already analysed by ketlit (index.analysis), and the Solr text fields
analyse queries by whitespace only (configset/schema.xml), so each term reaches Lucene as ketlit
made it. Scoring follows the tree: And/Or sum their parts' scores (Lucene's BooleanQuery does the
same), boosts are kept, filters score nothing.

Only the node types search.query makes are accepted; anything else is a bug (TypeError), never a
silently different query.
"""

from __future__ import annotations

import re
from typing import Any

from whoosh import query as wq

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


def to_solr(q: wq.Query) -> str:
    """The Solr query string for ``q``."""
    if isinstance(q, wq.Every):
        return MATCH_ALL
    if isinstance(q, type(wq.NullQuery)):
        return MATCH_NONE
    if isinstance(q, wq.Term):
        return _boost(q, f"{q.fieldname}:{_quote_if_needed(q.fieldname, _text(q.text))}")
    if isinstance(q, wq.Phrase):
        words = " ".join(escape(_text(w)) for w in q.words)
        slop = getattr(q, "slop", 1) or 1
        tail = f"~{slop - 1}" if slop > 1 else ""
        return _boost(q, f'{q.fieldname}:"{words}"{tail}')
    if isinstance(q, wq.Prefix):
        return _boost(q, f"{q.fieldname}:{escape(_text(q.text))}*")
    if isinstance(q, wq.Wildcard):
        pattern = _WILD_SPECIAL.sub(r"\\\1", _text(q.text))
        return _boost(q, f"{q.fieldname}:{pattern}")
    if isinstance(q, wq.NumericRange):
        lo = "*" if q.start is None else str(int(q.start))
        hi = "*" if q.end is None else str(int(q.end))
        left = "{" if q.startexcl and q.start is not None else "["
        right = "}" if q.endexcl and q.end is not None else "]"
        return _boost(q, f"{q.fieldname}:{left}{lo} TO {hi}{right}")
    if isinstance(q, wq.ConstantScoreQuery):
        return f"filter({to_solr(q.child)})"
    if isinstance(q, wq.AndNot):
        return _boost(q, f"(+({to_solr(q.a)}) -({to_solr(q.b)}))")
    if isinstance(q, wq.AndMaybe):
        return _boost(q, f"(+({to_solr(q.a)}) ({to_solr(q.b)}))")
    if isinstance(q, wq.Not):
        return f"(*:* -({to_solr(q.query)}))"
    if isinstance(q, wq.And):
        return _boost(q, "(" + " ".join(f"+({to_solr(c)})" for c in q.subqueries) + ")")
    if isinstance(q, wq.Or):
        return _boost(q, "(" + " OR ".join(f"({to_solr(c)})" for c in q.subqueries) + ")")
    raise TypeError(f"no Solr translation for {type(q).__name__}: {q!r}")


_STRING_FIELDS = frozenset({"pmid", "pubtype", "lang", "topic", "keys", "words"})


def _quote_if_needed(field: str, text: str) -> str:
    if field in _STRING_FIELDS:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return escape(text)
