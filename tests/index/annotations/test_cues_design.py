"""The design, control and phase rules of rules.yaml on classes of wording that mislead them.

Companion of test_cues.py (one cue per label); here each case is a kind of sentence a rule must
not be fooled by. Every sentence was written for this test (none comes from the PsyNamic data,
which is for bench/annotation.py only); each case fails if its rule is removed."""

from __future__ import annotations

import pytest

from index.annotations import annotate
from index.article import Article


def ann(title: str, abstract: str = "") -> dict:
    return annotate(Article(pmid="1", title=title, abstract=abstract))


@pytest.mark.parametrize("abstract", [
    "Forty adults received six ketamine infusions. Limitations: the lack of a placebo group.",
    "Forty adults received six ketamine infusions without a placebo control.",
    "Forty adults received six ketamine infusions. Future double-blind placebo-controlled "
    "studies should confirm these gains.",
    "Forty adults received six ketamine infusions; placebo-controlled studies are needed.",
    "Forty adults received six ketamine infusions. Lack of blinding and of a placebo arm limit "
    "these findings.",
    "Forty adults received six ketamine infusions. This observational study is not "
    "placebo-controlled.",
])
def test_a_placebo_the_study_lacked_is_no_control(abstract: str) -> None:
    assert ann("Repeated ketamine infusions in a depression clinic", abstract)["control"] == ["none"]


def test_a_placebo_the_results_name_is_still_the_control() -> None:
    a = ann("Ketamine and mood in healthy volunteers",
            "Mood rose after ketamine but not placebo, given in random order.")
    assert a["control"] == ["placebo"]


def test_a_waiting_list_is_another_control() -> None:
    a = ann("Psilocybin therapy for depression",
            "Twenty-four adults were assigned to immediate treatment or a waiting-list condition.")
    assert a["control"] == ["other"]


def test_a_case_report_has_no_control_group() -> None:
    a = ann("Esketamine and impulsivity in a patient with borderline personality disorder",
            "Placebo-controlled trials show rapid effects of esketamine. We report a 31-year-old "
            "woman whose scores worsened compared with baseline.")
    assert a["design"] == ["case-report"]
    assert a["control"] == ["none"]


@pytest.mark.parametrize("abstract", [
    "This was a double-blind, psychoactive-controlled study in 14 adults with social anxiety.",
    "The trial will apply a randomised, comparator-controlled crossover design in 30 adults.",
    "Adults were randomised to ketamine or an active-controlled condition.",
])
def test_a_control_arm_named_active_is_an_active_control(abstract: str) -> None:
    assert ann("Ketamine for anxiety", abstract)["control"] == ["active"]


@pytest.mark.parametrize("abstract", [
    "DESIGN: A brief narrative overview of human studies of ayahuasca and mood. Future work "
    "should use randomized, double-blind, placebo-controlled designs.",
    "This review gathers what is known of psilocybin and anxiety; randomized trials are few.",
])
def test_a_review_that_says_so_only_in_its_abstract_is_a_review(abstract: str) -> None:
    a = ann("Psychedelics and mood: pros and cons", abstract)
    assert a["design"] == ["systematic-review"]
    assert a["control"] == ["not-applicable"]


def test_a_call_for_randomized_trials_with_words_between_is_not_one() -> None:
    a = ann("Intranasal ketamine in a private practice",
            "Thirty outpatients answered a survey on their ketamine doses. Randomized, "
            "double-blind, controlled trials are warranted.")
    assert a["design"] != ["rct"]


def test_a_dose_inserted_at_random_makes_a_randomised_trial() -> None:
    a = ann("Psilocybin in obsessive-compulsive disorder",
            "Nine patients received rising doses; a very low dose was inserted randomly and "
            "double-blind into the sequence.")
    assert a["design"] == ["rct"]


@pytest.mark.parametrize("sentence", [
    "Larger, randomized, controlled trials with ketamine in which memory is the primary "
    "outcome are warranted.",
    "These results should be replicated in randomized, double-blind, placebo-controlled trials.",
    "Future work could compare it with placebo in randomized designs.",
    "Limitations include the retrospective design and the lack of randomization.",
])
def test_a_sentence_asking_for_randomization_is_no_trial(sentence: str) -> None:
    a = ann("Ketamine infusions and memory in a depression clinic",
            "Twenty-two outpatients received 0.5 mg/kg of ketamine six times. Memory improved. "
            + sentence)
    assert a["design"] != ["rct"]


@pytest.mark.parametrize("abstract", [
    "Patients received 0.5 mg/kg of ketamine and were randomized to two doses of midazolam.",
    "This analysis is part of a larger phase II trial of psilocybin in a randomized, "
    "double-blind design.",
])
def test_a_randomised_trial_is_read_across_decimals_and_larger_studies(abstract: str) -> None:
    assert ann("Ketamine in depression", abstract)["design"] == ["rct"]


def test_an_abstract_full_of_will_is_a_protocol_whatever_past_tense_it_holds() -> None:
    a = ann("Psilocybin for chronic back pain",
            "Adults will be assigned to psilocybin or an active placebo. Those in the drug arm "
            "will receive 25 mg. Guides will meet them twice. Pain will be rated daily (in an "
            "earlier trial we found daily ratings reliable), and scales that were administered "
            "at screening will be repeated at week 6.")
    assert a["design"] == ["protocol"]


@pytest.mark.parametrize("sentence", [
    "Twelve moderate users were administered three doses each.",
    "A placebo-controlled crossover study was conducted to test its effects. Findings showed "
    "a mild psychedelic state.",
])
def test_a_report_that_says_what_a_programme_will_do_is_no_protocol(sentence: str) -> None:
    a = ann("The subjective effects of a new stimulant",
            "This study is part of a programme in which the drug will be compared to amphetamine. "
            + sentence)
    assert a["design"] != ["protocol"]


@pytest.mark.parametrize(("abstract", "control"), [
    ("Twenty patients received ketamine; scores fell compared to baseline.", ["none"]),
    ("Twenty patients received ketamine; response was higher compared with earlier reports.",
     ["none"]),
    ("Twenty ecstasy users were scanned and compared with 20 drug-free volunteers.", ["other"]),
    ("Memory in 30 ketamine users was compared to that of matched non-users.", ["other"]),
])
def test_compared_with_other_people_is_a_control_group_but_baseline_is_not(
        abstract: str, control: list[str]) -> None:
    assert ann("Ketamine and memory", abstract)["control"] == control


def test_a_placebo_effect_the_study_could_not_control_leaves_its_placebo_arm() -> None:
    a = ann("Ayahuasca for depression: a placebo-controlled trial",
            "An open study was hard to read for the lack of control of the placebo effect. Here "
            "patients received ayahuasca or a placebo.")
    assert a["control"] == ["placebo"]


def test_an_inactive_placebo_is_a_placebo_not_an_active_control() -> None:
    a = ann("LSD and memory", "Twenty-four healthy volunteers received LSD or an inactive "
            "placebo in a randomized, double-blind study.")
    assert a["control"] == ["placebo"]


@pytest.mark.parametrize("abstract", [
    "Patients were randomised to ketamine or saline added to the anaesthesia for ECT.",
    "Patients were randomised to ketamine or saline before anaesthesia for electroconvulsive "
    "therapy.",
])
def test_a_comparator_named_after_for_is_no_comparator(abstract: str) -> None:
    # "for ECT" holds "or ECT": the comparator must be a word of its own
    assert ann("Ketamine during electroconvulsive therapy", abstract)["control"] == ["placebo"]


def test_a_study_of_patients_given_the_drug_has_an_unknown_phase() -> None:
    # no word of a trial in its title: still a study of a treatment whose phase is not named
    a = ann("EEG changes after ketamine in major depressive disorder",
            "Thirty patients with major depressive disorder received ketamine; EEG was recorded.")
    assert a["phase"] == ["unknown"]
    b = ann("EEG changes after ketamine in healthy volunteers",
            "Thirty healthy volunteers received ketamine; EEG was recorded.")
    assert b["phase"] == ["not-applicable"]


def test_a_randomised_trial_without_a_named_control_has_some_other_control() -> None:
    a = ann("Ketamine and dexmedetomidine regimens and memory",
            "Twenty volunteers were randomized to two anaesthetic regimens; memory was tested.")
    assert a["design"] == ["rct"]
    assert a["control"] == ["other"]
