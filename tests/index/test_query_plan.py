"""index.query_plan: the plan's nodes, their keys (str) and walks over their leaves."""

from __future__ import annotations

from index import query_plan as qp


def test_str_is_the_key_that_tells_alternatives_apart() -> None:
    assert str(qp.Term("text", "ketamin")) == "text:ketamin"
    assert str(qp.Term("text", "ketamin", boost=0.5)) == "text:ketamin^0.5"
    assert str(qp.Phrase("text", ("il", "6"), slop=2)) == 'text:"il 6"'
    assert str(qp.And((qp.Term("a", "x"), qp.Not(qp.Term("b", "y"))))) == "(a:x AND NOT b:y)"
    assert str(qp.Every()) == "*"
    # Frozen and comparable: equal plans are one dictionary key.
    assert len({qp.Term("text", "x"), qp.Term("text", "x"), qp.Term("text", "x", 2.0)}) == 2


def test_leaves_and_terms_walk_left_to_right() -> None:
    plan = qp.AndMaybe(
        qp.AndNot(qp.Alternatives((qp.Term("text", "ptsd"), qp.Phrase("text", ("stress", "disord")))),
                  qp.Range("year", 2019, None)),
        qp.Or((qp.Prefix("words", "t:depress"), qp.Term("keys", "design:rct"))))
    assert [type(leaf).__name__ for leaf in qp.leaves(plan)] == [
        "Term", "Phrase", "Range", "Prefix", "Term"]
    assert qp.iter_terms(plan) == [("text", "ptsd"), ("text", "stress"), ("text", "disord"),
                                   ("keys", "design:rct")]
