"""The annotation rules on hand-written abstracts (never the PsyNamic data: that is for bench/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.annotations import ANNOTATION_KEYS, annotate, load_rules
from index.article import Article
from index.errors import ConfigError
from index.store import RecordStore


def art(title: str, abstract: str = "", **kw: object) -> Article:
    return Article(pmid="1", title=title, abstract=abstract, **kw)  # type: ignore[arg-type]


def test_rct_of_intranasal_esketamine_in_trd() -> None:
    a = annotate(art(
        "Efficacy of intranasal esketamine in treatment-resistant depression: a randomized, "
        "double-blind, placebo-controlled phase 3 trial",
        "METHODS: We randomized 227 patients to esketamine nasal spray or placebo. "
        "Trial registration: NCT02417064."))
    assert set(a) == set(ANNOTATION_KEYS)
    assert a["design"] == ["rct"]
    assert a["route"] == ["intranasal"]
    assert a["drug"] == ["esketamine"]
    assert "treatment-resistant-depression" in a["condition"]
    assert a["participants"] == 227
    assert a["phase"] == ["phase-3"]
    assert a["control"] == ["placebo"]
    assert a["registry"] == ["NCT02417064"]


def test_systematic_review_has_no_route_sample_or_phase() -> None:
    a = annotate(art("Ketamine for depression: a systematic review and meta-analysis",
                     "We searched MEDLINE and Embase for randomized trials of ketamine."))
    assert a["design"] == ["systematic-review"]
    assert a["route"] == ["not-applicable"]
    assert a["participants"] == "not-applicable"
    assert a["phase"] == ["not-applicable"]
    assert a["control"] == ["not-applicable"]


def test_sample_size_forms() -> None:
    assert annotate(art("x", "Forty-two healthy volunteers received LSD."))["participants"] == 42
    assert annotate(art("x", "Participants (n = 58) took psilocybin."))["participants"] == 58
    assert annotate(art("x", "A total of 1,204 respondents completed a survey."))[
        "participants"] == 1204
    assert annotate(art("x", "Ketamine 0.5 mg/kg was infused over 40 min."))["participants"] is None


def test_racemic_and_enantiomers_are_told_apart() -> None:
    assert annotate(art("S-ketamine versus racemic ketamine"))["drug"] == ["esketamine", "ketamine"]
    assert annotate(art("Arketamine in mice"))["drug"] == ["arketamine"]
    assert annotate(art("Ecstasy users and memory"))["drug"] == ["mdma"]


def test_registry_ids_from_databank_list() -> None:
    a = annotate(art("x", "y", secondary_ids=["ClinicalTrials.gov/NCT01234567"]))
    assert a["registry"] == ["NCT01234567"]


def test_publication_types_count() -> None:
    a = annotate(art("Ketamine and mood", "", publication_types=["Case Reports"]))
    assert a["design"] == ["case-report"]


def test_bad_rules_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("tasks: {design: {rules: [{label: x, any: ['(']}]}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad pattern"):
        load_rules(bad)


def test_store_writes_annotations_and_reindex_refreshes_them(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "store.sqlite")
    store.upsert([art("A randomized trial of oral psilocybin", "")])
    got = store.get("1")
    assert got is not None and got.annotations is not None
    assert got.annotations["design"] == ["rct"] and got.annotations["route"] == ["oral"]
    # a record stored before annotations existed gets them on reindex
    stale = got
    stale.annotations = None

    store.conn.execute("UPDATE articles SET json=? WHERE pmid='1'", (stale.to_json(),))
    assert store.refresh_annotations() == 1
    again = store.get("1")
    assert again is not None and again.annotations is not None
    assert again.annotations["design"] == ["rct"]
    store.close()
