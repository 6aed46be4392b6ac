"""People counted from hand-written abstracts (none comes from the PsyNamic data): the forms a
count takes, a whole and its parts counted once, comparison people and the parts of a study."""

from __future__ import annotations

import pytest

from index.annotations import annotate, load_rules
from index.annotations.counts import count_participants
from index.article import Article


def ann(title: str, abstract: str = "") -> dict:
    return annotate(Article(pmid="1", title=title, abstract=abstract))


PARTICIPANTS = [
    ("Twelve healthy, right-handed men received ketamine.", 12),
    ("Twenty-four subjects (12 men, 12 women; mean age 30) took part, and 16 subjects "
     "(8 men, 8 women) joined later.", 40),
    ("We compared 12 participants who took MDMA with 12 participants who drank alcohol.", 24),
    ("PET was performed in 117 subjects: 30 current users, 29 former users, 29 drug-naive "
     "subjects and 29 users of other drugs.", 117),
    ("Depressed patients (n = 78) received ketamine (n = 39) or midazolam (n = 39).", 78),
    ("One patient took 500 mg/day and 3 people took lower doses.", 3),
    ("Twelve of 15 participants stopped smoking.", 15),
    ("Globally, 260 million people suffer from depression. Twenty patients will be treated.", 20),
    ("Most callers were men: 29 patients (56%) had taken the drug before.", 52),
    ("Five-hundred participants completed the survey.", 500),
    ("Three hundred and forty-two respondents answered.", 342),
    # a whole and its parts: "of N" is the whole, and a share after it is the part's share
    ("Of 90 enrolled patients, 70 completed and 12 withdrew.", 90),
    ("Four of 8 patients (50%) responded.", 8),
    # ... unless the part is the one picked for the study: it is the people studied
    ("Of the 2,310 eligible patients, 640 (28%) were included in the analysis.", 640),
    ("Nine of 52 patients in the trial were randomly selected for interviews.", 9),
    # a recruiting verb in the future tense, and people named by an acronym
    ("We will recruit 30 USMVs with chronic PTSD.", 30),
    ("The trial will enroll 45 across three sites.", 45),
    ("In total, 90 HCs will be randomized to ketamine or saline.", 90),
    # a number after a comparison sign is a threshold, not people
    ("Twelve patients took part; rescue analgesia was given when NRS ≥ 40 or patients asked.", 12),
    ("Seventy participants (30% female) were included.", 70),
    # the function "of 22 users" is no whole: the groups add up
    ("The memory of 22 users was compared with that of 20 drug-naive subjects.", 42),
    # comparison people counted in a sentence of their own join the patients
    ("Twelve patients received ketamine. Twelve age-matched healthy controls were scanned once.",
     24),
    # the parts of a study in sentences of their own add up
    ("In experiment 1, 30 volunteers took LSD. In experiment 2, 20 volunteers took placebo.", 50),
    ("In study 1 (n = 30) volunteers took LSD. In study 2 (n = 12 of 30) they took it again.", 30),
    # a number after "year", "week", "group" names rather than counts
    ("Schools enrolled year 10 students; 240 students took part.", 240),
    ("On week 12 patients were seen again.", None),
    # a size with its share describes some of the people, it is no group of its own
    ("Thirty subjects took part; most used heroin (n = 21; 70%) or cocaine (n = 18; 60%).", 30),
    ("Nineteen chronic ketamine abusers and 21 Ss were tested.", 40),
    # "out of" is "of": the whole, and the share is the part's
    ("Relief was reported by 6 out of 15 patients (40%).", 15),
    # "total", "totaling", "totalled" name the sample like "a total of"
    ("Each arm will enrol 25 patients, totaling 50 participants.", 50),
    ("Ten patients per centre will be recruited (five centres, total 50 subjects).", 50),
    # two counts sharing one noun
    ("Two crossover studies were done in 24 and 16 healthy subjects.", 40),
    # equal groups: their product
    ("A double-blind study with 3 groups of 10 healthy volunteers.", 30),
    # a chemical name between a count and its noun
    ("Twelve 3,4-methylenedioxymethamphetamine users and 12 control subjects were included.", 24),
    # several named samples in sentences of their own add up
    ("An initial group (n = 30) took ketamine. A second group (n = 25) repeated the tests.", 55),
    ("Classes were found in the discovery sample (N = 40). They held in the replication "
     "sample (N = 45).", 85),
    # a share's size and the same people counted as couples are no new groups
    ("Adults (N = 80) were randomised, of whom 54% (N = 43) took antidepressants.", 80),
    ("Healthy participants (N = 60) in a relationship (N = 30 couples) took MDMA.", 60),
    # arms given twice (sizes, then the same arms' characteristics) are counted once
    ("Forty volunteers were randomised to drug (n = 19) or placebo (n = 21) [drug: n = 19, age "
     "40; placebo: n = 21, age 41].", 40),
    # a clause picking out some of the people counted before it
    ("Twenty participants were enrolled, with fifteen participants receiving all doses.", 20),
    ("Thirty patients were treated, of whom 12 patients responded.", 30),
    ("Sixty-one recreational users took part, with 33 females and 28 males.", 61),
    # people named by their age
    ("We tested 18 healthy male 20-28 yr olds after ketamine.", 18),
    ("Forty 12-year-olds completed the questionnaire.", 40),
    # people written with a hyphenated prefix, and people named for the study's method
    ("Ten in-patients with neuropathic pain took part.", 10),
    ("The sample comprised sixty-six ex-users who had stopped taking MDMA.", 66),
    ("We spoke with 36 interviewees after their retreat.", 36),
]


@pytest.mark.parametrize(("abstract", "n"), PARTICIPANTS)
def test_participant_counts(abstract: str, n: int) -> None:
    assert ann("A study", abstract)["participants"] == n


def test_no_count_is_none() -> None:
    assert count_participants(load_rules().count, "ketamine 0.5 mg/kg over 40 min.") is None



def test_a_small_count_in_a_review_is_incidental() -> None:
    review = "Psilocybin safety: a systematic review"
    assert ann(review, "Sixteen trials were included; 3 participants needed a sedative.")[
        "participants"] == "not-applicable"
    assert ann(review, "We pooled 16 trials with a total of 842 participants.")[
        "participants"] == 842


def test_a_trial_registration_has_studied_no_one_yet() -> None:
    a = ann("Ketamine for suicidal ideation",
            "CONDITION: 20 patients with severe depression INTERVENTION: ketamine 0.5 mg/kg "
            "PRIMARY OUTCOME: Beck scale score of 7 or above in 40 patients")
    assert a["design"] == ["protocol"]
    assert a["participants"] is None
