"""search.query_parser: which words a tag takes (PubMed's rules), groups and their errors."""

from __future__ import annotations

import pytest

from index.errors import QueryError
from search.query_parser import GroupNode, Parser, PhraseNode, TermNode
from search.vocabulary import load_vocabulary


def parse(query: str) -> GroupNode | TermNode | PhraseNode:
    return Parser(query, "and", load_vocabulary()).parse()  # type: ignore[return-value]


def tagged(query: str) -> list[tuple[str, str | None]]:
    node = parse(query)
    items = [n for _neg, n in node.items] if isinstance(node, GroupNode) else [node]
    return [(n.text, n.tag) for n in items]  # type: ignore[union-attr]


def test_a_tag_takes_the_words_its_field_names() -> None:
    assert tagged("ketamine randomized controlled trial[pt]") == [
        ("ketamine", None), ("randomized controlled trial", "pt")]
    assert tagged("ketamine Depressive Disorder[mh]") == [("ketamine Depressive Disorder", "mh")]
    assert tagged("hnk van den Heuvel OA[au]") == [("hnk", None), ("van den Heuvel OA", "au")]
    assert tagged("ketamine depression[tiab]") == [("ketamine", None), ("depression", "tiab")]


def test_an_evidence_tag_takes_the_longest_run_naming_a_label() -> None:
    assert tagged("esketamine rct[design]") == [("esketamine", None), ("rct", "design")]
    assert tagged("ketamine treatment resistant depression[condition]") == [
        ("ketamine", None), ("treatment resistant depression", "condition")]


def test_groups_and_their_errors() -> None:
    node = parse("a OR (b AND NOT c)")
    assert isinstance(node, GroupNode) and node.op == "or"
    with pytest.raises(QueryError, match="character"):
        parse("(a OR b")
    with pytest.raises(QueryError, match="unknown"):
        parse("ketamine[zz]")
