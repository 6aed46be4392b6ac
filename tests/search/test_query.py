"""The query language: PubMed tags, Whoosh syntax, errors that say where, synonyms."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from index.errors import QueryError
from search.query import QueryBuilder, iter_terms


@pytest.fixture(scope="module")
def qb() -> QueryBuilder:
    return QueryBuilder()


def terms(q: wq.Query) -> set[tuple[str, str]]:
    return set(iter_terms(q))


def fields_of(q: wq.Query) -> set[str]:
    return {f for f, _t in iter_terms(q)}


def test_terms_are_anded_by_default_and_ored_with_match_any(qb: QueryBuilder) -> None:
    q = qb.build("ketamine depression").query
    assert isinstance(q, wq.And)
    q_any = qb.build("ketamine depression", "any").query
    assert isinstance(q_any, wq.Or)
    assert ("text", "ketamin") in terms(q) and ("text", "depress") in terms(q)


def test_boolean_operators_and_precedence(qb: QueryBuilder) -> None:
    q = qb.build("ketamine AND depression OR ptsd").query
    # AND binds tighter than OR: (ketamine AND depression) OR ptsd
    assert isinstance(q, wq.Or)
    q = qb.build("ketamine NOT review[pt]").query
    assert isinstance(q, wq.AndNot)
    assert ("pubtype", "review") in terms(q.b)
    q = qb.build("ketamine -rats").query
    assert isinstance(q, wq.AndNot)


@pytest.mark.parametrize(("tagged", "field"), [
    ("ketamine[ti]", "title"), ("ketamine[ab]", "abstract"), ("ketamine[mh]", "keys"),
    ("Zarate[au]", "author"), ("Nature[ta]", "keys"), ("ketamine[Title/Abstract]", "title"),
    ("ketamine[tiab]", "abstract"), ("title:ketamine", "title"),
])
def test_field_tags(qb: QueryBuilder, tagged: str, field: str) -> None:
    assert field in fields_of(qb.build(tagged).query)


def test_words_before_a_tag(qb: QueryBuilder) -> None:
    q = qb.build("randomized controlled trial[pt]").query
    assert q == wq.Term("pubtype", "randomized controlled trial")
    q = qb.build("ketamine randomized controlled trial[pt]").query
    assert isinstance(q, wq.And) and wq.Term("pubtype", "randomized controlled trial") in q.subqueries
    # A surname with initials is PubMed's author search: the initials are a prefix ("Zarate CA"
    # finds "Zarate CAJ" too), matched against whole names.
    assert qb.build("Zarate CA[au]").query == wq.Prefix("keys", "au:zarate ca")
    q = qb.build("ketamine Zarate[au]").query
    assert isinstance(q, wq.And) and wq.Term("author", "zarate") in q.subqueries
    q = qb.build("ketamine depression[ti]").query
    assert isinstance(q, wq.And) and wq.Term("title", "depress") in q.subqueries
    q = qb.build('"major depression"[ti]').query
    assert wq.Phrase("title", ["major", "depress"]) in list(q.leaves())
    assert fields_of(q) == {"title"}
    assert qb.build("Am J Psychiatry[ta]").query == wq.Term("keys", "ta:am j psychiatry")
    assert qb.build("Am. J. Psychiatry[ta]").query == wq.Term("keys", "ta:am j psychiatry")


def test_publication_type_and_language_aliases(qb: QueryBuilder) -> None:
    assert qb.build("rct[pt]").query == wq.Term("pubtype", "randomized controlled trial")
    assert qb.build("meta-analysis[pt]").query == wq.Term("pubtype", "meta-analysis")
    assert qb.build("english[la]").query == wq.Term("lang", "eng")
    assert qb.build("fre[la]").query == wq.Term("lang", "fre")


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
    q = qb.build(text).query
    assert isinstance(q, wq.NumericRange)
    assert (q.fieldname, q.start, q.end) == (field, lo, hi)


def test_phrases_and_truncation(qb: QueryBuilder) -> None:
    q = qb.build('"treatment resistant depression"').query
    assert any(isinstance(x, wq.Phrase) and x.words == ["treatment", "resist", "depress"]
               for x in q.leaves())
    # Truncation looks at the unstemmed words of each part (index.whoosh.schema ``words``).
    q = qb.build("depress*").query
    assert {x.text for x in q.leaves() if isinstance(x, wq.Prefix)} == \
        {"t:depress", "a:depress", "k:depress", "m:depress"}
    q = qb.build("change*[tiab]").query
    assert {x.text for x in q.leaves()} == {"t:change", "a:change", "k:change"}
    q = qb.build("ket?mine").query
    assert any(isinstance(x, wq.Wildcard) for x in q.leaves())


def test_hyphenated_word_matches_joined_or_parts(qb: QueryBuilder) -> None:
    q = qb.build("IL-6").query
    leaves = list(q.leaves())
    assert wq.Term("text", "il6") in leaves or any(
        isinstance(x, wq.Term) and x.text == "il6" for x in leaves)
    assert any(isinstance(x, wq.Phrase) and x.words == ["il", "6"] for x in leaves)


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
    q = qb.build(typed).query
    words = {t for _f, t in iter_terms(q)}
    assert set(expected) <= words, words


def test_synonyms_weigh_less_than_the_typed_word(qb: QueryBuilder) -> None:
    q = qb.build("PTSD").query
    boosts = {x.text: x.boost for x in q.leaves() if isinstance(x, wq.Term) and x.fieldname == "text"}
    assert boosts["ptsd"] == 1.0
    phrases = [x for x in q.leaves() if isinstance(x, wq.Phrase) and x.fieldname == "text"]
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
        q = qb.build(text, "any").query
        assert isinstance(q, wq.Or)
    words = {t for _f, t in iter_terms(qb.build("Does ketamine work?", "any").query)}
    assert "work" in words  # a trailing "?" is punctuation, not a wildcard


def test_highlight_terms_are_analysed_positive_words(qb: QueryBuilder) -> None:
    c = qb.build("Ketamine AND IL-6 NOT rats")
    assert {"ketamin", "il6", "il", "6"} <= c.highlight_terms
    assert "rat" not in c.highlight_terms
