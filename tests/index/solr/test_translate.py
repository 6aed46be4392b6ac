"""index.solr.translate: the lowered plan reaches Solr as ketlit analysed it (terms, structure,
boosts), and the searcher's filters become filter queries that select without scoring."""

from __future__ import annotations

import pytest

from index import query_plan as qp
from index.backend import Filters
from index.solr.translate import filter_queries, to_solr


def test_translation_keeps_analysed_terms_and_structure() -> None:
    q = qp.AndNot(qp.And((qp.Term("text", "ketamin"), qp.Phrase("text", ("il", "6")),
                          qp.Prefix("text", "depress"), qp.Range("year", 2019, None))),
                  qp.Term("pubtype", "review"))
    assert to_solr(q) == ('(+((+(text:ketamin) +(text:"il 6") +(text:depress*) '
                          '+(year:[2019 TO *]))) -(pubtype:"review"))')
    assert to_solr(qp.Term("text", "p<0.05", boost=0.5)) == "(text:p\\<0.05)^0.5"
    assert to_solr(qp.Phrase("text", ("a", "b"), slop=3)) == 'text:"a b"~3'
    assert to_solr(qp.Alternatives((qp.Term("text", "ptsd"), qp.Wildcard("words", "t:ket?min")))) \
        == "((text:ptsd) OR (words:t\\:ket?min))"
    assert to_solr(qp.Every()) == "*:*"
    with pytest.raises(TypeError):
        to_solr("ketamine")  # type: ignore[arg-type]


def test_filters_are_filter_queries() -> None:
    assert filter_queries(Filters()) == []
    assert filter_queries(Filters(topics=("ptsd", "ocd"), year_from=2019, types=("review",),
                                  languages=("eng",), has_abstract=True,
                                  exclude_retracted=True)) == [
        '((topic:"ptsd") OR (topic:"ocd"))', "year:[2019 TO *]", 'pubtype:"review"',
        'lang:"eng"', "hasabs:true", "-retracted:true"]
    # Evidence annotations: any of a facet's labels as keys terms, at least N people.
    assert filter_queries(Filters(design=("rct", "case-series"), phase=("phase-3",),
                                  min_participants=50)) == [
        '((keys:"design:rct") OR (keys:"design:case-series"))', 'keys:"phase:phase-3"',
        "participants:[50 TO *]"]
