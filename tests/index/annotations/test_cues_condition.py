"""The condition rules of rules.yaml, one class of cue per test, on hand-written abstracts.

Every sentence here was written for this test (none comes from the PsyNamic data, which is for
bench/annotation.py only). Each test fails if the rule it names is removed."""

from __future__ import annotations

import pytest

from index.annotations import annotate
from index.article import Article


def cond(title: str, abstract: str = "") -> list[str]:
    return annotate(Article(pmid="1", title=title, abstract=abstract))["condition"]


def test_drug_users_dosed_in_a_laboratory_are_still_recreational_users() -> None:
    # the report does not call them healthy volunteers: they are studied as drug users
    got = cond("MDMA and impulse control",
               "Methods: Sixteen recreational users of MDMA entered a double-blind, "
               "placebo-controlled crossover study of 75 mg MDMA.")
    assert "recreational-use" in got


@pytest.mark.parametrize(("title", "abstract"), [
    ("Sleep after the weekend in MDMA-users", "We followed 40 young adults for two weeks."),
    ("Hair analysis of drug intake", "We compared hair samples of 25 ecstasy consumers."),
    ("Personality of partygoers", "We surveyed 300 partygoers and 300 students."),
])
def test_users_consumers_and_party_visitors_are_recreational_use(title: str,
                                                                 abstract: str) -> None:
    assert "recreational-use" in cond(title, abstract)


def test_a_gambling_task_is_not_a_gambling_addiction() -> None:
    got = cond("LSD and risk taking",
               "We gave LSD to 20 healthy volunteers, who then played the Iowa gambling task.")
    assert "other-addiction" not in got
    assert "other-addiction" in cond("Psilocybin for gambling disorder")


def test_ibogaine_detoxification_is_an_addiction_treatment() -> None:
    got = cond("Outcomes after ibogaine detoxification",
               "We interviewed 50 people one year after treatment at a clinic.")
    assert "other-addiction" in got


def test_a_review_of_mental_disorders_is_psychiatric_not_healthy_volunteers() -> None:
    got = cond("Psilocybin as medicine: a systematic review",
               "We reviewed the trials of psilocybin in mental disorders.")
    assert got == ["other-psychiatric"]


def test_healthy_human_subjects_and_non_clinically_significant_effects() -> None:
    got = cond("Ketamine and connectivity",
               "Methods: Thirty healthy human subjects received ketamine or saline.")
    assert got == ["healthy-volunteers"]
    got = cond("Ketamine for PTSD",
               "We randomized 30 patients with PTSD; side effects were non-clinically "
               "significant.")
    assert "healthy-volunteers" not in got


@pytest.mark.parametrize("sentence", [
    "These findings matter for novel treatments in psychiatric disorders.",
    "These findings may advance the understanding of psychiatric disorders.",
])
def test_what_findings_may_serve_is_not_the_population(sentence: str) -> None:
    got = cond("LSD and social judgement",
               f"We gave LSD to 24 healthy participants. {sentence}")
    assert got == ["healthy-volunteers"]


def test_an_earlier_study_population_is_not_this_one() -> None:
    got = cond("Psilocybin for depression",
               "Our previous study in healthy volunteers showed it was safe. We will give "
               "psilocybin to 30 patients with major depressive disorder.")
    assert got == ["depression"]


def test_mood_as_an_outcome_is_not_depression() -> None:
    got = cond("Effects of mescaline on mood and attention",
               "Methods: We gave mescaline to 12 volunteers.")
    assert "depression" not in got


def test_the_gad7_questionnaire_is_not_an_anxiety_disorder() -> None:
    got = cond("Ketamine in treatment-resistant depression",
               "We treated 40 patients with treatment-resistant depression; anxiety was rated "
               "with the Generalized Anxiety Disorder-7 and the GAD-7.")
    assert "anxiety" not in got


def test_psychiatric_disorders_a_healthy_volunteer_study_may_serve_are_not_its_population() -> None:
    got = cond("Psilocybin and face processing",
               "We studied how psilocybin, which is tested in psychiatric disorders, alters "
               "amygdala connectivity in 25 healthy volunteers.")
    assert got == ["healthy-volunteers"]


def test_psychiatric_patients_compared_with_healthy_controls_keep_their_condition() -> None:
    got = cond("Prediction errors and ketamine",
               "We scanned 20 psychiatric inpatients and 20 matched healthy controls.")
    assert "other-psychiatric" in got


def test_patients_a_clinic_follows_by_online_survey_are_not_recreational_users() -> None:
    got = cond("Ibogaine-assisted therapy for veterans",
               "Methods: Veterans seeking treatment for PTSD at a clinical program answered "
               "online surveys at baseline and one month after treatment.")
    assert "recreational-use" not in got and "ptsd" in got


def test_an_online_survey_of_people_who_use_a_drug_is_recreational_use() -> None:
    assert "recreational-use" in cond("Microdosing motives",
                                      "We ran an online survey of 800 adults about DMT.")


def test_antidepressant_resistant_ptsd_is_ptsd_not_depression() -> None:
    # antidepressants are PTSD's first-line drugs: their failure qualifies the PTSD
    assert cond("Ketamine infusions for antidepressant-resistant PTSD") == ["ptsd"]
    assert "depression" in cond("Ketamine for antidepressant-resistant depression")
    assert "depression" in cond("The antidepressant effect of ketamine")


def test_suicidal_ideation_monitored_as_an_adverse_event_is_not_the_population() -> None:
    abstract = ("Methods: Twenty veterans with PTSD will receive psilocybin. Safety outcomes "
                "will be adverse events and suicidal ideation, as measured by a rating scale.")
    got = cond("Psilocybin for veterans with PTSD", abstract)
    assert "suicidality" not in got and "depression" not in got
    assert "suicidality" in cond("Ketamine for suicidal ideation",
                                 "Methods: Thirty adults with suicidal ideation received ketamine.")


def test_a_treatment_a_laboratory_study_might_explain_is_not_its_population() -> None:
    abstract = ("The purpose of this placebo-controlled study was to test whether ketamine "
                "might explain the efficacy of naltrexone for the treatment of alcoholism. "
                "Thirty healthy subjects were randomized.")
    assert "alcohol-use-disorder" not in cond("Naltrexone and ketamine", abstract)
    assert "alcohol-use-disorder" in cond("Naltrexone and ketamine",
                                          "We randomized 30 patients with alcoholism.")


def test_pain_scores_in_a_postoperative_depression_trial_are_outcomes() -> None:
    abstract = ("Methods: We randomized 120 patients undergoing surgery to ketamine or saline. "
                "Results: Depression and postoperative pain scores were lower with ketamine.")
    assert cond("Intraoperative ketamine and postoperative depression", abstract) == ["depression"]
    assert "chronic-pain" in cond("Intraoperative ketamine and recovery", abstract)


def test_psychedelic_therapy_for_cancer_patients_treats_their_depression_and_anxiety() -> None:
    got = cond("Psilocybin-assisted therapy in advanced cancer",
               "Methods: Twelve patients with advanced cancer received one session.")
    assert {"palliative", "depression", "anxiety"} <= set(got)
    # a ketamine analgesia trial in cancer patients is not one of them
    got = cond("Ketamine for cancer pain", "Methods: Twelve patients with advanced cancer received ketamine.")
    assert "depression" not in got and "anxiety" not in got
