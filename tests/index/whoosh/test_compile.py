"""index.whoosh.compile: ketlit's parse tree -> the Whoosh queries the engine runs.

compile_golden.json holds, for 744 queries (those of the test suite, the evidence tags and the PubMed examples,
with --match all and any), the Whoosh query that search/query.py's QueryBuilder built before the
parse tree existed (its repr: classes, fields, tokens, boosts and slops). The compiler must give
exactly these, so ranking cannot change (bench/relevance.py measures the same)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from whoosh import query as wq

from index import query_plan as qp
from index import querytree as qt
from index.lowering import Lowering
from index.whoosh.compile import compile_tree, to_whoosh
from index.whoosh.engine import Alternatives
from search.query import parse_tree
from search.vocabulary import load_vocabulary

GOLDEN = json.loads(Path(__file__).with_name("compile_golden.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lowering() -> Lowering:
    return Lowering(load_vocabulary())


def test_the_compiler_builds_exactly_the_queries_the_builder_built(lowering: Lowering) -> None:
    vocab = load_vocabulary()
    wrong = []
    for text, match, expected in GOLDEN:
        got = compile_tree(parse_tree(text, vocab, match), lowering)
        if repr(got) != expected:
            wrong.append((text, match, expected, repr(got)))
    assert not wrong, wrong[:3]
    assert len(GOLDEN) > 700


def test_each_plan_node_maps_to_its_whoosh_class() -> None:
    plan = qp.AndNot(qp.And((qp.Alternatives((qp.Term("text", "ptsd"), qp.Phrase("text", ("a", "b"),
                                                                                   boost=0.5))),
                             qp.Range("pdate", 20190101, None),
                             qp.AndMaybe(qp.Prefix("words", "t:depress"),
                                         qp.Wildcard("words", "a:ket?min")))),
                     qp.Not(qp.Term("pubtype", "review")))
    q = to_whoosh(plan)
    assert isinstance(q, wq.AndNot) and isinstance(q.b, wq.Not)
    alt, rng, maybe = q.a.subqueries
    assert isinstance(alt, Alternatives)
    assert alt.subqueries[1] == wq.Phrase("text", ["a", "b"], slop=1, boost=0.5)  # adjacent = 1
    assert (rng.fieldname, rng.start, rng.end) == ("pdate", 20190101, None)
    assert isinstance(maybe.a, wq.Prefix) and isinstance(maybe.b, wq.Wildcard)
    assert isinstance(to_whoosh(qp.Every()), wq.Every)
    with pytest.raises(TypeError):
        to_whoosh(qt.Term("x"))  # type: ignore[arg-type]


def test_a_tree_of_stop_words_compiles_to_nothing(lowering: Lowering) -> None:
    assert compile_tree(qt.Term("the"), lowering) is None
    assert lowering.lower(qt.Term("the")).only_stops
