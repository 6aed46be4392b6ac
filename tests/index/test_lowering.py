"""index.lowering: ketlit's parse tree -> the backend-neutral plan over the index's fields (whole
values as namespaced keys, evidence labels, dates, field weights, stop words, highlighting)."""

from __future__ import annotations

import pytest

from index import query_plan as qp
from index import querytree as qt
from index.lowering import DEFAULT_FIELDS, Lowering
from search.vocabulary import load_vocabulary


@pytest.fixture(scope="module")
def lowering() -> Lowering:
    lw = Lowering(load_vocabulary())
    lw.proximity_weight = 0.0  # the plans below without the optional proximity clause
    return lw


def plan(lowering: Lowering, node: qt.Node) -> qp.Node | None:
    return lowering.lower(node).plan


def test_whole_values_are_namespaced_keys(lowering: Lowering) -> None:
    assert plan(lowering, qt.Value("design", "rct")) == qp.Term("keys", "design:rct")
    assert plan(lowering, qt.Value("phase", "phase-3")) == qp.Term("keys", "phase:phase-3")
    assert plan(lowering, qt.Value("mh", "Depressive Disorder")) == \
        qp.Term("keys", "mh:depressive disorder")
    # Descriptor/qualifier, as PubMed writes it, is its own namespace.
    assert plan(lowering, qt.Value("mh", "Ketamine/therapeutic use")) == \
        qp.Term("keys", "mq:ketamine/therapeutic use")
    assert plan(lowering, qt.Value("au", "Zarate CA", prefix=True)) == \
        qp.Prefix("keys", "au:zarate ca")
    assert plan(lowering, qt.Value("ta", "1234-567X")) == qp.Term("keys", "is:1234-567x")
    assert plan(lowering, qt.Value("pubtype", "review")) == qp.Term("pubtype", "review")


def test_dates_are_ranges_of_their_column(lowering: Lowering) -> None:
    assert plan(lowering, qt.DateRange(20190101, 20211231, "edate")) == \
        qp.Range("edate", 20190101, 20211231)
    years = plan(lowering, qt.DateRange(20190101, 20211231, years=True))
    precise = plan(lowering, qt.DateRange(20190601, None))
    assert isinstance(years, qp.Range) and isinstance(precise, qp.Range)
    assert precise.low == 20190601 and precise.high is None


def test_a_word_is_searched_in_the_default_fields_with_their_weights(lowering: Lowering) -> None:
    got = plan(lowering, qt.Term("ketamine"))
    assert got == qp.Or(tuple(qp.Term(f, "ketamin", boost=w) if w != 1 else qp.Term(f, "ketamin")
                              for f, w in DEFAULT_FIELDS.items()))
    lowered = lowering.lower(qt.And((qt.Term("ketamine"), qt.Not(qt.Term("placebo")))))
    assert lowered.words == ("ketamin",) and lowered.raw == ("ketamine",)
    assert "ketamin" in lowered.highlight and "placebo" not in lowered.highlight
    assert isinstance(lowered.plan, qp.AndNot)


def test_stop_words_alone_lower_to_nothing(lowering: Lowering) -> None:
    lowered = lowering.lower(qt.And((qt.Term("the"), qt.Term("of"))))
    assert lowered.plan is None and lowered.only_stops
    with pytest.raises(TypeError):
        lowering.lower(qt.And(("ketamine",)))  # type: ignore[arg-type]
