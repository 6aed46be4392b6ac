from __future__ import annotations

from index.article import Article, Author, Grant, MeshHeading


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
        grants=[Grant(grant_id="R01 MH1", acronym="MH", agency="NIMH NIH HHS",
                      country="United States"), Grant(agency="Wellcome Trust")],
        coi_statement="None declared.",
        copyright="© 2020 The Authors.",
        history=[("received", "2019-01-02 00:00"), ("pubmed", "2020-03-04 06:00")],
        publication_status="ppublish",
        citation_subsets=["IM"],
        nlm_unique_id="9201390",
        completed_date="2020-05-06",
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


def test_records_stored_before_grants_and_history_still_load() -> None:
    a = Article.from_dict({"pmid": "1", "title": "T"})
    assert (a.grants, a.history, a.citation_subsets) == ([], [], [])
    assert a.coi_statement is a.copyright is a.publication_status is a.completed_date is None
    b = Article.from_json(_full().to_json())
    assert b.grants[0].agency == "NIMH NIH HHS" and b.history[1] == ("pubmed", "2020-03-04 06:00")
