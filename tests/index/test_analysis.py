"""Biomedical analysis: tokens people type survive, folding, stemming that keeps words apart."""

from __future__ import annotations

import pytest

from index.analysis import PROTECTED, analyse, fold, query_variants, stem_word


def texts(text: str) -> list[str]:
    return [t.text for t in analyse(text, protected=PROTECTED)]


def matches(doc: str, typed: str) -> bool:
    """Would a typed word find the document text (any of its forms among the doc's tokens)?"""
    doc_tokens = set(texts(doc))
    return all(g[0] in doc_tokens or set(g[1:]) <= doc_tokens and len(g) > 1
               for g in query_variants(typed, PROTECTED))


@pytest.mark.parametrize(("text", "expected"), [
    ("5-HT2A", "5ht2a"), ("COVID-19", "covid19"), ("IL-6", "il6"), ("(R)-ketamine", "rketamin"),
    ("(2R,6R)-HNK", "2r6rhnk"), ("TNF-α", "tnfalpha"),
])
def test_compounds_are_indexed_joined_and_in_parts(text: str, expected: str) -> None:
    toks = texts(text)
    assert expected in toks
    assert len(toks) >= 3  # the parts too


@pytest.mark.parametrize(("doc", "typed"), [
    ("5-HT2A receptor", "5-HT2A"), ("5-HT2A receptor", "5HT2A"), ("IL-6 levels", "IL6"),
    ("IL6 levels", "IL6"), ("COVID-19 patients", "covid19"), ("(R)-ketamine", "R-ketamine"),
    ("(R)-ketamine", "(R)-ketamine"), ("(2R,6R)-HNK", "(2R,6R)-HNK"), ("(2R,6R)-HNK", "HNK"),
    ("NMDA receptors", "nmda receptor"), ("TNF-α", "TNF-alpha"), ("Sjögren's syndrome", "sjogren"),
    ("post-traumatic stress", "posttraumatic"),
])
def test_typed_forms_find_written_forms(doc: str, typed: str) -> None:
    assert matches(doc, typed), (texts(doc), query_variants(typed, PROTECTED))


def test_p_values_are_one_normalised_token() -> None:
    assert texts("p < 0.05") == ["p<0.05"]
    assert texts("P<.05") == ["p<0.05"]
    assert texts("p ≤ 0.001") == ["p<=0.001"]
    assert "p<0.05" not in texts("p < 0.01")


def test_case_and_accents_fold() -> None:
    assert fold("Sjögren") == "sjogren"
    assert texts("NMDA") == texts("nmda") == ["nmda"]
    assert texts("Ketamine") == texts("KETAMINE")


def test_stop_words_dropped_but_positions_kept_consecutive() -> None:
    toks = list(analyse("treatment of the depression"))
    assert [t.text for t in toks] == ["treatment", "depress"]
    assert [t.pos for t in toks] == [0, 1]
    assert texts("the of and") == []


@pytest.mark.parametrize(("a", "b"), [
    ("positive", "position"), ("organ", "organic"), ("animal", "animation"),
    ("emergency", "emergence"), ("universe", "university"), ("police", "policy"),
    ("plastic", "plasticity"), ("mean", "meaning"), ("author", "authority"),
])
def test_stemming_keeps_unrelated_words_apart(a: str, b: str) -> None:
    assert stem_word(a) != stem_word(b)


@pytest.mark.parametrize(("a", "b"), [
    ("receptors", "receptor"), ("depression", "depressive"), ("studies", "study"),
    ("analyses", "analysis"), ("mice", "mouse"), ("randomised", "randomized"),
    ("tumours", "tumor"), ("antidepressants", "antidepressant"),
])
def test_stemming_merges_forms_of_one_word(a: str, b: str) -> None:
    assert stem_word(a) == stem_word(b)


def test_acronyms_and_numbers_are_not_stemmed() -> None:
    assert texts("AIDS") == ["aids"]
    assert texts("CNS") == ["cns"]
    assert texts("0.05 mg/kg") == ["0.05", "mg", "kg"]


def test_character_offsets_point_at_the_original_text() -> None:
    text = "Esketamine (Spravato) for TRD"
    for t in analyse(text):
        assert fold(text[t.start:t.end]).replace("(", "").replace(")", "") != ""
    first = next(iter(analyse(text)))
    assert text[first.start:first.end] == "Esketamine"
