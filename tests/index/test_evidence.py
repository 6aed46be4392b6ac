"""index.evidence: how evidence annotations are indexed, banded, named and validated."""

from __future__ import annotations

import pytest

from index.evidence import (
    EVIDENCE_FACET_NAMES,
    evidence_keys,
    evidence_values,
    keyword_terms,
    known_labels,
    normalise_label,
    participants_band,
)
from tests.search.evidence_records import ann


def test_facets_are_the_issues_tasks_plus_sample_size_bands() -> None:
    assert EVIDENCE_FACET_NAMES == ("design", "route", "drug", "condition", "phase",
                                    "participants")


@pytest.mark.parametrize(("value", "band"), [
    (0, "<20"), (19, "<20"), (20, "20-49"), (49, "20-49"), (50, "50-99"), (100, "100-499"),
    (499, "100-499"), (500, "500+"), (12000, "500+"), (None, "unknown"),
    ("not-applicable", "not-applicable"), (True, "unknown")])
def test_participants_bands(value: object, band: str) -> None:
    assert participants_band(value) == band


def test_keys_and_values_of_a_record() -> None:
    a = ann(["rct"], ["intranasal"], ["esketamine"], ["depression"], 224, ["phase-3"])
    assert evidence_keys(a) == ["design:rct", "route:intranasal", "drug:esketamine",
                                "condition:depression", "phase:phase-3", "participants:100-499"]
    # a record stored before annotations existed: nothing but an unknown sample size
    assert evidence_values(None)["design"] == ()
    assert evidence_keys(None) == ["participants:unknown"]


@pytest.mark.parametrize(("facet", "typed", "label"), [
    ("design", "RCT", "rct"), ("design", "Randomized Controlled Trial", "rct"),
    ("design", "systematic review", "systematic-review"), ("route", "IV", "intravenous"),
    ("route", "nasal", "intranasal"), ("drug", "S-ketamine", "esketamine"),
    ("condition", "TRD", "treatment-resistant-depression"),
    ("condition", "treatment resistant depression", "treatment-resistant-depression"),
    ("phase", "3", "phase-3"), ("phase", "Phase III", "phase-3"), ("phase", "phase_2", "phase-2"),
])
def test_typed_values_name_labels(facet: str, typed: str, label: str) -> None:
    assert normalise_label(facet, typed) == label


def test_unknown_value_error_lists_the_known_labels() -> None:
    with pytest.raises(ValueError) as err:
        normalise_label("route", "rectal")
    msg = str(err.value)
    assert "unknown route 'rectal'" in msg and "oral, intranasal, intravenous" in msg
    assert "psilocybin" in known_labels("drug")


def test_keyword_terms_leave_out_what_says_nothing() -> None:
    a = ann(["rct"], ["unknown"], ["esketamine"], ["ptsd"], 40, ["not-applicable"],
            ["placebo"], ["NCT01234567"])
    assert keyword_terms(a) == ["design: rct", "drug: esketamine", "condition: ptsd",
                                "control: placebo", "participants: 40",
                                "registry: NCT01234567"]
    assert keyword_terms(None) == []
