from __future__ import annotations

from index.article import Article, Author, MeshHeading


def _full() -> Article:
    return Article(
        pmid="123",
        title="Esketamine for TRD",
        abstract="BACKGROUND: x\nRESULTS: y",
        abstract_sections=[("BACKGROUND", "x"), ("RESULTS", "y")],
        authors=[Author(last="Müller", fore="Anna", initials="A", affiliations=("Uni",),
                        orcid="0000-0001-2345-6789"), Author(collective="STAR*D Group")],
        mesh=[MeshHeading("Ketamine", True, (("therapeutic use", True),))],
        topics={"depression", "ptsd"},
        pub_year=2020,
        other_abstracts=[("chi", "摘要")],
    )


def test_json_round_trip_keeps_every_field() -> None:
    a = _full()
    b = Article.from_json(a.to_json())
    assert b == a
    assert b.authors[1].display == "STAR*D Group"
    assert b.author_names == ["Müller A", "STAR*D Group"]


def test_topics_serialise_sorted_and_unknown_keys_are_ignored() -> None:
    d = _full().to_dict()
    assert d["topics"] == ["depression", "ptsd"]
    d["some_future_field"] = 1
    assert Article.from_dict(d).pmid == "123"


def test_missing_values_are_none_not_empty_strings() -> None:
    a = Article(pmid="1")
    assert a.title is None and a.doi is None and a.pub_year is None
    assert a.authors == [] and a.topics == set()


def test_to_dict_matches_a_plain_dataclass_conversion() -> None:
    """The store compares stored JSON to spot unchanged records: the hand-written to_dict must
    give exactly what dataclasses.asdict gives (with topics sorted)."""
    import dataclasses
    import json

    a = _full()
    a.editors = [Author(last="Ed", fore="Itor")]
    a.keywords = ["ketamine"]
    a.retraction_pmids = ["9"]
    expected = dataclasses.asdict(a)
    expected["topics"] = sorted(a.topics)
    assert a.to_json() == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
