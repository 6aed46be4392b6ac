"""The pattern compiler: prefilter literals, word tries and literal-first alternatives keep the
matches the plain patterns would give."""

from __future__ import annotations

import re

from index.annotations.patterns import _anchor, _fast, _trie


def test_anchor_is_a_literal_every_match_contains() -> None:
    assert _anchor(r"randomi[sz]ed") == "randomi"
    assert _anchor(r"infusions?") == "infusion"
    assert _anchor(r"(?:a|b)") is None


def test_a_counted_repeat_is_no_literal() -> None:
    # "{0,3}" repeats what precedes it: its digits never occur in the text, and an anchor made
    # of them would silently switch the alternative off
    assert _anchor(r"(?:lifetime|past) (?:[\w-]+ ){0,3}use\b") == "use"
    assert _anchor(r"ab{2,3}cd") == "cd"
    assert _anchor(r"x(?:ab){1,2}?yz") == "yz"


def test_trie_matches_the_same_words_as_the_flat_list() -> None:
    words = ["patients", "participants", "persons", "pairs", "mg/kg", "year", "years"]
    rx = re.compile(f"^(?:{_trie(words)})$")
    for w in words:
        assert rx.match(w), w
    for w in ["patient", "part", "yearss", "p", "mgxkg"]:
        assert not rx.match(w), w


def test_literal_first_alternative_keeps_the_word_boundary() -> None:
    rx = re.compile(_fast(r"\bketamine\b"))
    assert rx.search("oral ketamine was given")
    assert not rx.search("esketamine was given")
