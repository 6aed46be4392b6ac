"""The Whoosh compiler: ketlit's parse tree -> the Whoosh query index.whoosh.engine runs.

A tree is lowered once for every backend (index/lowering.py: analysis, fields and weights,
synonyms); this module maps each node of the lowered plan onto the Whoosh query class that
engine.Evaluator evaluates, one to one. Phrase slop is Whoosh's (1 = adjacent), the plan's plus
one; a plan's Alternatives is engine.Alternatives (expansions capped below the typed form).
"""

from __future__ import annotations

from whoosh import query as wq

from index import query_plan as qp
from index import querytree as qt
from index.lowering import Lowering
from index.whoosh.engine import Alternatives


def compile_tree(tree: qt.Node, lowering: Lowering) -> wq.Query | None:
    """The Whoosh query for a parse tree (None: it analyses to nothing searchable)."""
    plan = lowering.lower(tree).plan
    return None if plan is None else to_whoosh(plan)


def to_whoosh(node: qp.Node) -> wq.Query:
    if isinstance(node, qp.Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, qp.Phrase):
        return wq.Phrase(node.field, list(node.words), slop=node.slop + 1, boost=node.boost)
    if isinstance(node, qp.Prefix):
        return wq.Prefix(node.field, node.text, boost=node.boost)
    if isinstance(node, qp.Wildcard):
        return wq.Wildcard(node.field, node.pattern, boost=node.boost)
    if isinstance(node, qp.Range):
        return wq.NumericRange(node.field, node.low, node.high)
    if isinstance(node, qp.Alternatives):
        return Alternatives([to_whoosh(n) for n in node.items])
    if isinstance(node, qp.And):
        return wq.And([to_whoosh(n) for n in node.items])
    if isinstance(node, qp.Or):
        return wq.Or([to_whoosh(n) for n in node.items])
    if isinstance(node, qp.AndNot):
        return wq.AndNot(to_whoosh(node.positive), to_whoosh(node.negative))
    if isinstance(node, qp.AndMaybe):
        return wq.AndMaybe(to_whoosh(node.required), to_whoosh(node.optional))
    if isinstance(node, qp.Not):
        return wq.Not(to_whoosh(node.item))
    if isinstance(node, qp.Every):
        return wq.Every()
    raise TypeError(f"not a query plan node: {node!r}")
