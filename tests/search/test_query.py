"""The query language: PubMed tags, Whoosh syntax, errors that say where, synonyms, down to the
backend-neutral plan (index.query_plan) that every backend compiles."""

from __future__ import annotations

import pytest

from index import query_plan as qp
from index.errors import QueryError
from index.query_plan import iter_terms, leaves
from search.query import QueryBuilder


@pytest.fixture(scope="module")
def qb() -> QueryBuilder:
    return QueryBuilder()


def terms(q: qp.Node) -> set[tuple[str, str]]:
    return set(iter_terms(q))


def fields_of(q: qp.Node) -> set[str]:
    return {f for f, _t in iter_terms(q)}


def test_terms_are_anded_by_default_and_ored_with_match_any(qb: QueryBuilder) -> None:
    q = qb.build("ketamine depression").plan
    assert isinstance(q, qp.And)
    q_any = qb.build("ketamine depression", "any").plan
    assert isinstance(q_any, qp.Or)
    assert ("text", "ketamin") in terms(q) and ("text", "depress") in terms(q)


def test_boolean_operators_and_precedence(qb: QueryBuilder) -> None:
    q = qb.build("ketamine AND depression OR ptsd").plan
    # AND binds tighter than OR: (ketamine AND depression) OR ptsd
    assert isinstance(q, qp.Or)
    q = qb.build("ketamine NOT review[pt]").plan
    assert isinstance(q, qp.AndNot)
    assert ("pubtype", "review") in terms(q.negative)
    q = qb.build("ketamine -rats").plan
    assert isinstance(q, qp.AndNot)


@pytest.mark.parametrize(("tagged", "field"), [
    ("ketamine[ti]", "title"), ("ketamine[ab]", "abstract"), ("ketamine[mh]", "keys"),
    ("Zarate[au]", "author"), ("Nature[ta]", "keys"), ("ketamine[Title/Abstract]", "title"),
    ("ketamine[tiab]", "abstract"), ("title:ketamine", "title"),
])
def test_field_tags(qb: QueryBuilder, tagged: str, field: str) -> None:
    assert field in fields_of(qb.build(tagged).plan)


def test_words_before_a_tag(qb: QueryBuilder) -> None:
    q = qb.build("randomized controlled trial[pt]").plan
    assert q == qp.Term("pubtype", "randomized controlled trial")
    q = qb.build("ketamine randomized controlled trial[pt]").plan
    assert isinstance(q, qp.And) and qp.Term("pubtype", "randomized controlled trial") in q.items
    # A surname with initials is PubMed's author search: the initials are a prefix ("Zarate CA"
    # finds "Zarate CAJ" too), matched against whole names.
    assert qb.build("Zarate CA[au]").plan == qp.Prefix("keys", "au:zarate ca")
    q = qb.build("ketamine Zarate[au]").plan
    assert isinstance(q, qp.And) and qp.Term("author", "zarate") in q.items
    q = qb.build("ketamine depression[ti]").plan
    assert isinstance(q, qp.And) and qp.Term("title", "depress") in q.items
    q = qb.build('"major depression"[ti]').plan
    assert qp.Phrase("title", ("major", "depress")) in list(leaves(q))
    assert fields_of(q) == {"title"}
    assert qb.build("Am J Psychiatry[ta]").plan == qp.Term("keys", "ta:am j psychiatry")
    assert qb.build("Am. J. Psychiatry[ta]").plan == qp.Term("keys", "ta:am j psychiatry")


def test_publication_type_and_language_aliases(qb: QueryBuilder) -> None:
    assert qb.build("rct[pt]").plan == qp.Term("pubtype", "randomized controlled trial")
    assert qb.build("meta-analysis[pt]").plan == qp.Term("pubtype", "meta-analysis")
    assert qb.build("english[la]").plan == qp.Term("lang", "eng")
    assert qb.build("fre[la]").plan == qp.Term("lang", "fre")


@pytest.mark.parametrize(("text", "field", "lo", "hi"), [
    ("2019:2021[dp]", "year", 2019, 2021), ("2020[dp]", "year", 2020, 2020),
    ("2019/06:2020[dp]", "pdate", 20190601, 20201231), ("year:[2015 TO 2020]", "year", 2015, 2020),
    ("2019/03[dp]", "pdate", 20190301, 20190331), ("2019[edat]", "edate", 20190101, 20191231),
    ('"2023/01/01"[dp] : "2023/12/31"[dp]', "pdate", 20230101, 20231231),
    ('"2023/01/01":"2023/12/31"[dp]', "pdate", 20230101, 20231231),
    ("2023/01/01 : 2023/12/31[dp]", "pdate", 20230101, 20231231),
    ("year:2018", "year", 2018, 2018), ("2015:[dp]", "year", 2015, None),
])
def test_date_ranges(qb: QueryBuilder, text: str, field: str, lo: int, hi: int | None) -> None:
    q = qb.build(text).plan
    assert isinstance(q, qp.Range)
    assert (q.field, q.low, q.high) == (field, lo, hi)


def test_phrases_and_truncation(qb: QueryBuilder) -> None:
    q = qb.build('"treatment resistant depression"').plan
    assert any(isinstance(x, qp.Phrase) and x.words == ("treatment", "resist", "depress")
               for x in leaves(q))
    # Truncation looks at the unstemmed words of each part (index.whoosh.schema ``words``).
    q = qb.build("depress*").plan
    assert {x.text for x in leaves(q) if isinstance(x, qp.Prefix)} == \
        {"t:depress", "a:depress", "k:depress", "m:depress"}
    q = qb.build("change*[tiab]").plan
    assert {x.text for x in leaves(q)} == {"t:change", "a:change", "k:change"}  # type: ignore[union-attr]
    q = qb.build("ket?mine").plan
    assert any(isinstance(x, qp.Wildcard) for x in leaves(q))


def test_hyphenated_word_matches_joined_or_parts(qb: QueryBuilder) -> None:
    q = qb.build("IL-6").plan
    found = leaves(q)
    assert qp.Term("text", "il6") in found or any(
        isinstance(x, qp.Term) and x.text == "il6" for x in found)
    assert any(isinstance(x, qp.Phrase) and x.words == ("il", "6") for x in found)


@pytest.mark.parametrize(("typed", "expected"), [
    ("PTSD", ["posttraumat", "stress", "disord"]),
    ("posttraumatic stress disorder", ["ptsd"]),
    ("OCD", ["obsess", "compuls", "disord"]),
    ("TRD", ["treatment", "resist", "depress"]),
    ("Spravato", ["esketamin"]),
    ("HNK", ["hydroxynorketamin"]),
    ("arketamine", ["r", "ketamin"]),
])
def test_vocabulary_synonyms_expand(qb: QueryBuilder, typed: str, expected: list[str]) -> None:
    q = qb.build(typed).plan
    words = {t for _f, t in iter_terms(q)}
    assert set(expected) <= words, words


def test_synonyms_weigh_less_than_the_typed_word(qb: QueryBuilder) -> None:
    q = qb.build("PTSD").plan
    boosts = {x.text: x.boost for x in leaves(q) if isinstance(x, qp.Term) and x.field == "text"}
    assert boosts["ptsd"] == 1.0
    phrases = [x for x in leaves(q) if isinstance(x, qp.Phrase) and x.field == "text"]
    assert phrases and all(p.boost < 1.0 for p in phrases)


@pytest.mark.parametrize(("query", "where", "what"), [
    ("(ketamine AND depression", 1, "unbalanced parenthesis"),
    ("ketamine AND (depression OR ptsd", 14, "unbalanced parenthesis"),
    ("ketamine) AND depression", 9, "unbalanced parenthesis"),
    ("ketamine[xyz]", 9, "unknown field tag [xyz]"),
    ("AND ketamine", 1, "AND has nothing on its left"),
    ("ketamine OR", 10, "OR has nothing on its right"),
    ('"ketamine depression', 1, "unterminated phrase"),
    ("ketamine ()", 10, "empty parentheses"),
    ("ke*", 3, "truncation needs at least 3 letters"),
    ("ketamine[ti", 9, "never closed"),
    ("[ti]", 1, "no term before it"),
    ("abc[dp]", 1, "bad date"),
    ("2021:2019[dp]", 1, "ends before it starts"),
])
def test_malformed_queries_say_where(qb: QueryBuilder, query: str, where: int, what: str) -> None:
    with pytest.raises(QueryError) as exc:
        qb.build(query)
    msg = str(exc.value)
    assert what in msg
    assert f"at character {where} in '{query}'" in msg


def test_only_stop_words_says_so(qb: QueryBuilder) -> None:
    with pytest.raises(QueryError, match="only stop words"):
        qb.build("the of and")
    with pytest.raises(QueryError, match="empty"):
        qb.build("   ")


def test_pasted_sentences_parse(qb: QueryBuilder) -> None:
    for text in ["A high microerythrocyte count protects against severe anemia in homozygous "
                 "alpha (+)- thalassemia trait subjects.",
                 "Alirocumab treatment reduces apo(a) fractional clearance rate.",
                 "Does ketamine work for depression?",
                 "10% of deaths happen in newborns aged less than 6 months: p < 0.05"]:
        q = qb.build(text, "any").plan
        assert isinstance(q, qp.Or)
    words = {t for _f, t in iter_terms(qb.build("Does ketamine work?", "any").plan)}
    assert "work" in words  # a trailing "?" is punctuation, not a wildcard


def test_highlight_terms_are_analysed_positive_words(qb: QueryBuilder) -> None:
    c = qb.build("Ketamine AND IL-6 NOT rats")
    assert {"ketamin", "il6", "il", "6"} <= c.highlight_terms
    assert "rat" not in c.highlight_terms
