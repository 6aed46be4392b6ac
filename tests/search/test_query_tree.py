"""search.query.parse_tree: query text -> ketlit's own tree (index.querytree)."""

import pytest

from index import querytree as qt
from index.errors import QueryError
from search.query import parse_tree


def test_terms_booleans_and_not() -> None:
    tree = parse_tree("ketamine AND (depression OR suicidal) NOT review[pt]")
    assert tree == qt.And((qt.Term("ketamine"),
                           qt.Or((qt.Term("depression"), qt.Term("suicidal"))),
                           qt.Not(qt.Value("pubtype", "review"))))


def test_truncation_is_a_prefix_in_the_tagged_fields() -> None:
    assert parse_tree("suicidal*[tiab]") == qt.Prefix("suicidal", ("title", "abstract", "keywords"),
                                                       "tiab")


def test_tagged_multiword_terms_are_one_value() -> None:
    assert parse_tree("Depressive Disorder[mh]") == parse_tree('"Depressive Disorder"[mh]') \
        == qt.Value("mh", "Depressive Disorder")
    assert parse_tree("Depressive Disorder[majr]") == qt.Value("mj", "Depressive Disorder")
    assert parse_tree("Krystal J[au]") == qt.Value("au", "Krystal J", prefix=True)


def test_phrases_keep_their_slop() -> None:
    assert parse_tree('"ketamine infusion"~3') == qt.Phrase(("ketamine", "infusion"), slop=3)
    assert parse_tree("\"ketamine infusion\"") == qt.Phrase(("ketamine", "infusion"))


def test_dates_all_search_the_publication_date() -> None:
    whole = qt.DateRange(20180101, 20201231, "pdate")
    assert parse_tree("2018:2020[dp]") == whole
    assert parse_tree("2018/01/01:2020/12/31[dp]") == whole
    assert parse_tree('"2018/01/01"[dp] : "2020/12/31"[dp]') == whole
    assert parse_tree("2019/03[dp]") == qt.DateRange(20190301, 20190331, "pdate")
    assert parse_tree("2019[edat]") == qt.DateRange(20190101, 20191231, "edate")


def test_filter_words_and_errors_are_the_parsers() -> None:
    assert parse_tree("hasabstract") == qt.Value("sb", "hasabstract")
    with pytest.raises(QueryError, match="unknown field tag"):
        parse_tree("ketamine[zz]")
    with pytest.raises(QueryError, match="bad date|date"):
        parse_tree("2018/13/01[dp]")
