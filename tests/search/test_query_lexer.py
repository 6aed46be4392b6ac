"""search.query_lexer: tokens with their positions, and errors that name the character."""

from __future__ import annotations

from search.query_lexer import lex, query_error


def kinds(query: str) -> list[tuple[str, str, int]]:
    return [(t.kind, t.text, t.pos) for t in lex(query) if t.kind != "EOF"]


def test_tokens_carry_their_kind_and_position() -> None:
    assert kinds('ketamine AND "major depression"[tiab]') == [
        ("WORD", "ketamine", 0), ("AND", "AND", 9), ("PHRASE", "major depression", 13),
        ("TAG", "tiab", 31)]
    # A leading minus excludes as NOT does.
    assert [t.kind for t in lex("(a OR b) NOT c -d")][:9] == [
        "LP", "WORD", "OR", "WORD", "RP", "NOT", "WORD", "NOT", "WORD"]


def test_proximity_is_kept_as_the_phrases_slop() -> None:
    # Whoosh's count: adjacent words are slop 1, so ~3 (three words between) is 4.
    phrase = lex('"ketamine depression"~3')[0]
    assert phrase.kind == "PHRASE" and phrase.slop == 4
    assert lex('"ketamine depression"')[0].slop == 1


def test_errors_name_the_character_one_based() -> None:
    assert str(query_error("abc", 1, "bad thing")) == "query: bad thing at character 2 in 'abc'"
    long = "x" * 200
    assert "..." in str(query_error(long, 0, "too long"))
