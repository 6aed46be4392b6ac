"""One short hand-written sentence per label: the cue each rule of rules.yaml reads.

Every sentence here was written for this test (none comes from the PsyNamic data, which is for
bench/annotation.py only). Each case fails if its rule is removed or stops matching."""

from __future__ import annotations

import pytest

from index.annotations import annotate
from index.article import Article


def ann(title: str, abstract: str = "") -> dict:
    return annotate(Article(pmid="1", title=title, abstract=abstract))


DESIGN = [
    ("Oral ketamine for chronic pain: a study protocol",
     "Patients will be randomised to ketamine or placebo.", "protocol"),
    ("Ketamine and mood", "We will recruit sixty adults who will receive two doses.", "protocol"),
    ("Effects of LSD on memory in healthy subjects",
     "LSD may alter memory. The present study aims to test LSD against placebo in healthy "
     "subjects.", "protocol"),
    ("Esketamine for depression: a systematic review",
     "We searched MEDLINE and Embase and pooled effect sizes.", "systematic-review"),
    ("Psilocybin and anxiety", "A meta-analysis of twelve trials.", "systematic-review"),
    ("Ketamine misuse in a young man",
     "We report a 24-year-old man who developed cystitis.", "case-report"),
    ("Intranasal ketamine in three patients: a case series",
     "Three women received ketamine.", "case-series"),
    ("Case report: intramuscular ketamine in four patients with depression", "", "case-series"),
    # a registry entry, whatever tense or statistics its fields use
    ("Single dose of esketamine for suicidality",
     "INTERVENTION: esketamine 56 mg. CONDITION: Suicidal ideation. PRIMARY OUTCOME: change in "
     "MADRS; powered to detect a difference at p < 0.05.", "protocol"),
    ("Repeated ketamine infusions in two patients with treatment-resistant depression", "",
     "case-series"),
    ("Impulsivity after esketamine in a patient with recurrent depression", "", "case-report"),
    ("Ketamine versus midazolam in depression",
     "Forty patients were randomized to ketamine or midazolam.", "rct"),
    ("Ketamine after surgery", "Participants were randomly assigned to two groups.", "rct"),
    ("Psychedelic use among students",
     "We conducted an online survey of students who had used LSD.", "real-world"),
    ("Ayahuasca ceremonies and wellbeing",
     "We followed people attending ceremonies in Brazil.", "real-world"),
    ("Patients' experiences of psilocybin therapy: a qualitative study",
     "Twelve patients were interviewed after treatment.", "qualitative"),
    ("Ketamine exposure in anaesthesia",
     "This retrospective cohort study followed 5,000 children.", "cohort"),
    ("Ketamine pharmacology", "Ketamine blocks NMDA receptors in cortical neurons.", "other"),
]


@pytest.mark.parametrize(("title", "abstract", "label"), DESIGN)
def test_design_cues(title: str, abstract: str, label: str) -> None:
    assert ann(title, abstract)["design"] == [label]


def test_results_are_not_a_protocol_and_a_pooled_analysis_is_other() -> None:
    a = ann("Ketamine in depression",
            "We will discuss the findings. RESULTS: Scores fell significantly (p < 0.01).")
    assert a["design"] != ["protocol"]
    a = ann("Esketamine in ten patients: a case series",
            "This study aims to assess esketamine. FINDINGS: Nine patients improved.")
    assert a["design"] == ["case-series"]
    assert ann("Ketamine response", "A pooled analysis of three of our randomized trials.")[
        "design"] == ["other"]


def test_a_call_for_randomized_trials_is_not_one() -> None:
    a = ann("Ketamine in an older man", "Randomized controlled trials are needed to confirm this.")
    assert a["design"] != ["rct"]


ROUTE = [
    ("Oral esketamine tablets", "", "oral"),
    ("Ketamine nasal spray", "", "intranasal"),
    ("Ketamine infusion", "Ketamine 0.5 mg/kg was given intravenously.", "intravenous"),
    ("Ketamine", "Patients received ketamine 0.5 mg/kg IV over 40 minutes.", "intravenous"),
    ("Intramuscular ketamine in agitation", "", "intramuscular"),
    ("Subcutaneous ketamine for depression", "", "subcutaneous"),
    ("Sublingual ketamine lozenges", "", "sublingual"),
    ("Vaporized DMT", "Participants inhaled the vapour.", "inhaled"),
    ("Transdermal ketamine", "", "other"),
    ("Ketamine and memory", "Ketamine blocks NMDA receptors.", "unknown"),
]


@pytest.mark.parametrize(("title", "abstract", "label"), ROUTE)
def test_route_cues(title: str, abstract: str, label: str) -> None:
    assert label in ann(title, abstract)["route"]


DRUG = [
    ("Ketamine for depression", "ketamine"),
    ("Esketamine nasal spray", "esketamine"),
    ("(R)-ketamine in rodents and people", "arketamine"),
    ("MDMA-assisted therapy", "mdma"),
    ("Lysergic acid diethylamide and time perception", "lsd"),
    ("Psilocybin in cancer patients", "psilocybin"),
    ("Magic mushroom use in students", "psychedelic-mushrooms"),
    ("Ayahuasca in religious settings", "ayahuasca"),
    ("Inhaled DMT and the brain", "dmt"),
    ("5-MeO-DMT from the Sonoran desert toad", "5-meo-dmt"),
    ("Mescaline and peyote use", "mescaline"),
    ("Ibogaine for opioid withdrawal", "ibogaine"),
    ("Salvia divinorum smoking", "salvinorin-a"),
    ("Psilocybin-assisted psychotherapy", "combination"),
    ("2C-B compared with MDMA", "analogue"),
    ("A new antidepressant", "unknown"),
]


@pytest.mark.parametrize(("title", "label"), DRUG)
def test_drug_cues(title: str, label: str) -> None:
    assert label in ann(title)["drug"]


CONDITION = [
    ("Ketamine in treatment-resistant depression", "", "treatment-resistant-depression"),
    ("Ketamine in bipolar depression", "", "bipolar-depression"),
    ("Esketamine and postpartum depression after caesarean section", "", "postpartum-depression"),
    ("Psilocybin in major depressive disorder", "", "depression"),
    ("Ketamine for suicidal ideation", "", "suicidality"),
    ("MDMA-assisted therapy for PTSD", "", "ptsd"),
    ("Psilocybin in obsessive-compulsive disorder", "", "ocd"),
    ("Psilocybin for anxiety in advanced cancer", "", "anxiety"),
    ("Ketamine for alcohol use disorder", "", "alcohol-use-disorder"),
    ("Psilocybin for smoking cessation", "", "other-addiction"),
    ("Psilocybin in anorexia nervosa", "", "eating-disorder"),
    ("Ketamine in patients with schizophrenia", "", "other-psychiatric"),
    ("Psilocybin and Alzheimer's disease", "", "alzheimers"),
    ("Ketamine for agitation in dementia", "", "dementia"),
    ("Ketamine for neuropathic pain", "", "chronic-pain"),
    ("Ketamine for postoperative pain", "", "chronic-pain"),
    ("Psilocybin in palliative care", "", "palliative"),
    ("Ketamine and preoperative anxiety in children", "", "anxiety"),
    ("Psilocybin for treatment-seeking smokers", "", "other-addiction"),
    ("Intranasal ketamine for painful procedures in children", "", "chronic-pain"),
    ("Recreational ketamine users and bladder damage",
     "We surveyed people who use ketamine at festivals.", "recreational-use"),
    ("Effects of LSD in healthy volunteers", "", "healthy-volunteers"),
]


@pytest.mark.parametrize(("title", "abstract", "label"), CONDITION)
def test_condition_cues(title: str, abstract: str, label: str) -> None:
    assert label in ann(title, abstract)["condition"]


def test_matched_controls_are_healthy_people() -> None:
    a = ann("Ketamine response in depression",
            "We scanned 10 patients with major depression and 15 age-matched controls.")
    assert "healthy-volunteers" in a["condition"] and "depression" in a["condition"]


def test_background_conditions_are_not_the_population() -> None:
    # the background sentence names depression; the study itself is in healthy volunteers
    a = ann("Effects of psilocybin on attention",
            "Psilocybin is being studied for depression and anxiety. We gave psilocybin to "
            "twenty healthy volunteers.")
    assert a["condition"] == ["healthy-volunteers"]


@pytest.mark.parametrize("abstract", [
    "We gave ketamine to 20 patients with major depression, half with a family history of "
    "alcoholism.",
    "We studied body perception, altered in disorders such as anorexia nervosa, in 20 patients "
    "with major depression.",
    "Twenty patients with major depression took part; the results have implications for "
    "dementia care.",
])
def test_asides_in_the_study_sentences_are_not_the_population(abstract: str) -> None:
    # a family history, examples of other disorders, implications for another illness
    assert ann("Ketamine in depression", abstract)["condition"] == ["depression"]


def test_a_registry_entry_is_read_from_its_condition_section() -> None:
    # outcome measures and exclusion criteria name other conditions than the one enrolled
    a = ann("MDMA-assisted therapy for veterans",
            "INTERVENTION: MDMA-assisted therapy. CONDITION: Post-traumatic stress disorder. "
            "PRIMARY OUTCOME: CAPS-5. SECONDARY OUTCOME: depressive symptoms (PHQ-9), anxiety "
            "(GAD-7), suicidal ideation. EXCLUSION CRITERIA: bipolar disorder.")
    assert a["condition"] == ["ptsd"]


def test_healthy_people_with_a_family_history_or_who_smoke_are_healthy() -> None:
    a = ann("Ketamine in healthy individuals with a family history of alcoholism")
    assert a["condition"] == ["healthy-volunteers"]
    a = ann("Ketamine and nicotine on attention",
            "We tested 20 smokers and 20 non-smokers, all healthy volunteers.")
    assert a["condition"] == ["healthy-volunteers"]


def test_outcomes_in_healthy_volunteers_are_not_conditions() -> None:
    a = ann("Mood and anxiety after LSD in healthy volunteers")
    assert a["condition"] == ["healthy-volunteers"]


def test_lab_sessions_with_healthy_experienced_users_are_not_recreational_use() -> None:
    a = ann("MDMA and empathy",
            "We gave 100 mg MDMA or placebo to healthy recreational ecstasy users in a laboratory.")
    assert "recreational-use" not in a["condition"]


def test_postoperative_pain_outcome_in_perinatal_depression_is_not_chronic_pain() -> None:
    a = ann("Esketamine and postpartum depression after caesarean section",
            "Secondary outcomes were postoperative pain scores and opioid consumption.")
    assert "postpartum-depression" in a["condition"] and "chronic-pain" not in a["condition"]


def test_depression_named_only_in_the_background_when_nothing_else_is() -> None:
    # the study's own sentences name no population; the abstract names the disease treated
    a = ann("Ketamine infusions at a psychiatric hospital",
            "Ketamine is a rapid-acting antidepressant for major depressive disorder. We report "
            "the outcomes of the first 50 infusions.")
    assert a["condition"] == ["depression"]
    b = ann("Effects of psilocybin on attention",
            "Psilocybin is studied for major depressive disorder. We gave psilocybin to twenty "
            "healthy volunteers.")
    assert b["condition"] == ["healthy-volunteers"]


def test_suicidal_ideation_counts_as_depression() -> None:
    assert "depression" in ann("Ketamine for suicidal ideation")["condition"]


PHASE = [
    ("A phase 1 study of psilocybin", "", "phase-1"),
    ("A phase II trial of ketamine", "", "phase-2"),
    ("A phase 3 trial of esketamine", "", "phase-3"),
    ("A phase IV study of esketamine", "", "phase-4"),
    ("Ketamine in treatment-resistant depression",
     "Patients were randomized to ketamine or placebo.", "unknown"),
    ("Ketamine in healthy volunteers", "Ketamine changed the EEG.", "not-applicable"),
]


@pytest.mark.parametrize(("title", "abstract", "label"), PHASE)
def test_phase_cues(title: str, abstract: str, label: str) -> None:
    assert ann(title, abstract)["phase"] == [label]


CONTROL = [
    ("Ketamine versus placebo", "placebo"),
    ("Ketamine compared with midazolam in depression", "active"),
    ("Ketamine versus ECT for severe depression", "active"),
    ("Ketamine or ectopic pacing in arrhythmia", "none"),
    ("Ecstasy users and non-users", "other"),
    ("Open-label ketamine in ten patients", "none"),
]


@pytest.mark.parametrize(("title", "label"), CONTROL)
def test_control_cues(title: str, label: str) -> None:
    assert ann(title)["control"] == [label]


def test_unicode_hyphens_read_as_hyphens() -> None:
    a = ann("Ketamine in treatment\u2010resistant depression",
            "Twenty\u2010four patients received ketamine.")
    assert "treatment-resistant-depression" in a["condition"]
    assert a["participants"] == 24
