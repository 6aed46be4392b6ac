"""The backend-neutral parse tree: frozen, comparable, walkable, free of any engine."""

import dataclasses
import pathlib

import pytest

from index import querytree as qt


def test_nodes_are_frozen_and_compare_by_value() -> None:
    a = qt.And((qt.Term("ketamine"), qt.Not(qt.Value("pubtype", "review"))))
    b = qt.And((qt.Term("ketamine"), qt.Not(qt.Value("pubtype", "review"))))
    assert a == b and hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.items = ()  # type: ignore[misc]


def test_walk_visits_every_node_parents_first() -> None:
    tree = qt.Or((qt.Alternatives(qt.Term("serotonin"), ((qt.Term("5-ht"), 0.5),)),
                  qt.Prefix("suicid", ("title", "abstract"), "tiab"),
                  qt.DateRange(20180101, 20201231)))
    kinds = [type(n).__name__ for n in qt.walk(tree)]
    assert kinds == ["Or", "Alternatives", "Term", "Term", "Prefix", "DateRange"]


def test_the_tree_module_imports_no_search_engine() -> None:
    src = pathlib.Path(qt.__file__).read_text()
    assert "whoosh" not in src.replace("Whoosh", "").split('"""', 2)[2].lower()
    assert "solr" not in src.split('"""', 2)[2].lower()
