"""Hand-written ketamine records for search tests (the shared PubMed data holds none: the
ketamine-topic material is kept back for independent checking). Text is written the way
abstracts are, with the tokens people type: 5-HT2A, NMDA, (R)-ketamine, (2R,6R)-HNK, IL-6,
COVID-19, p < 0.05."""

from __future__ import annotations

from index.article import Article, Author, MeshHeading


def ketamine_articles() -> list[Article]:
    return [
        Article(
            pmid="90000001",
            title="Esketamine nasal spray for treatment-resistant depression: a randomized "
                  "controlled trial",
            abstract="BACKGROUND: Esketamine (Spravato), the (S)-enantiomer of ketamine, is an "
                     "NMDA receptor antagonist. METHODS: Adults with treatment-resistant "
                     "depression were randomized. RESULTS: MADRS scores improved versus placebo "
                     "(p < 0.05).",
            authors=[Author(last="Zarate", fore="Carlos A", initials="CA"),
                     Author(last="Smith", fore="Jane", initials="J")],
            journal="American Journal of Psychiatry", journal_iso="Am J Psychiatry",
            pub_year=2019, epub_date="2019-03-01", languages=["eng"],
            publication_types=["Journal Article", "Randomized Controlled Trial"],
            mesh=[MeshHeading("Ketamine", True), MeshHeading("Depressive Disorder, Treatment-Resistant")],
            keywords=["esketamine", "Spravato"], topics={"depression"}),
        Article(
            pmid="90000002",
            title="(R)-ketamine shows sustained antidepressant effects in mice",
            abstract="Arketamine produced longer-lasting antidepressant-like effects than "
                     "(S)-ketamine. Its metabolite (2R,6R)-HNK did not bind 5-HT2A receptors.",
            authors=[Author(last="Hashimoto", fore="Kenji", initials="K")],
            journal="Translational Psychiatry", pub_year=2020, epub_date="2020-06-10",
            languages=["eng"], publication_types=["Journal Article"], topics={"depression"}),
        Article(
            pmid="90000003",
            title="Ketamine infusion for chronic posttraumatic stress disorder",
            abstract="A randomized trial of intravenous ketamine in veterans with chronic "
                     "post-traumatic stress disorder; symptom severity fell within 24 hours.",
            authors=[Author(last="Feder", fore="Adriana", initials="A")],
            journal="JAMA Psychiatry", pub_year=2014, epub_date="2014-04-16", languages=["eng"],
            publication_types=["Journal Article", "Randomized Controlled Trial"],
            topics={"ptsd"}),
        Article(
            pmid="90000004",
            title="Ketamine in obsessive-compulsive disorder: a proof-of-concept study",
            abstract="Patients with obsessive compulsive disorder received one ketamine infusion; "
                     "obsessions decreased rapidly.",
            authors=[Author(last="Rodriguez", fore="Carolyn I", initials="CI")],
            journal="Neuropsychopharmacology", pub_year=2013, epub_date="2013-07-01",
            languages=["eng"], publication_types=["Journal Article", "Clinical Trial"],
            topics={"ocd"}),
        Article(
            pmid="90000005",
            title="Ketamine for suicidal ideation: a meta-analysis",
            abstract="We pooled trials of ketamine for suicidal ideation in major depressive "
                     "disorder.",
            authors=[Author(last="Wilkinson", fore="Samuel T", initials="ST")],
            journal="American Journal of Psychiatry", pub_year=2021, epub_date="2021-01-05",
            languages=["eng"], publication_types=["Journal Article", "Meta-Analysis",
                                                   "Systematic Review", "Retracted Publication"],
            retracted=True, retraction_pmids=["90000099"], topics={"depression"}),
        Article(
            pmid="90000006",
            title="IL-6 and COVID-19 in depressed patients treated with ketamine",
            abstract="Interleukin-6 (IL-6) levels fell after ketamine in patients recovering "
                     "from COVID-19; TNF-α did not change.",
            authors=[Author(last="Dupont", fore="Marie", initials="M")],
            journal="L'Encephale", pub_year=2022, epub_date="2022-02-02", languages=["fre"],
            publication_types=["Journal Article"], topics={"depression"}),
        Article(
            pmid="90000007",
            title="Ketamine clinics: a letter of caution",
            authors=[Author(collective="Ketamine Safety Consortium")],
            journal="Lancet Psychiatry", pub_year=2018, epub_date="2018-09-09",
            languages=["eng"], publication_types=["Letter"], topics={"depression", "ptsd"}),
        Article(
            pmid="90000008",
            title="Hydroxynorketamine metabolites and NMDA receptor inhibition",
            abstract="Hydroxynorketamine levels were measured in plasma; Sjögren's syndrome was "
                     "an exclusion criterion.",
            authors=[Author(last="Zanos", fore="Panos", initials="P")],
            journal="Nature", pub_year=2016, epub_date="2016-05-04", languages=["ger"],
            publication_types=["Journal Article"], topics={"depression"}),
    ]
