"""Records with given evidence annotations (the store keeps annotations it is handed), so tests
of facets, filters, tags, pages and exports do not depend on the annotation rules."""

from __future__ import annotations

from typing import Any

from index.article import Article, Author


def ann(design: list[str], route: list[str], drug: list[str], condition: list[str],
        participants: Any, phase: list[str], control: list[str] | None = None,
        registry: list[str] | None = None) -> dict[str, Any]:
    return {"design": design, "route": route, "drug": drug, "condition": condition,
            "participants": participants, "phase": phase, "control": control or ["none"],
            "registry": registry or []}


def evidence_articles() -> list[Article]:
    def art(pmid: str, title: str, year: int, topics: set[str], annotations: dict[str, Any]
            ) -> Article:
        return Article(pmid=pmid, title=title, abstract=f"{title}. Ketamine study abstract.",
                       authors=[Author(last="Doe", fore="Jane", initials="J")],
                       journal="Journal of Evidence", pub_year=year,
                       epub_date=f"{year}-01-{int(pmid[-1]) + 1:02d}",
                       entrez_date=f"{year}-01-{int(pmid[-1]) + 1:02d}",
                       languages=["eng"], publication_types=["Journal Article"],
                       topics=topics, annotations=annotations)

    return [
        art("80000001", "Intranasal esketamine for treatment-resistant depression: an RCT", 2021,
            {"depression"}, ann(["rct"], ["intranasal"], ["esketamine"],
                                ["treatment-resistant-depression", "depression"], 224,
                                ["phase-3"], ["placebo"], ["NCT01234567"])),
        art("80000002", "Esketamine nasal spray randomized trial in suicidality", 2022,
            {"depression"}, ann(["rct"], ["intranasal"], ["esketamine"],
                                ["depression", "suicidality"], 60, ["phase-2"], ["placebo"])),
        art("80000003", "Intravenous ketamine infusion for PTSD", 2020, {"ptsd"},
            ann(["rct"], ["intravenous"], ["ketamine"], ["ptsd"], 30, ["unknown"], ["active"])),
        art("80000004", "Oral ketamine cohort in depression", 2019, {"depression"},
            ann(["cohort"], ["oral"], ["ketamine"], ["depression"], 12, ["not-applicable"])),
        art("80000005", "Ketamine for depression: a systematic review", 2023, {"depression"},
            ann(["systematic-review"], ["not-applicable"], ["ketamine", "esketamine"],
                ["depression"], "not-applicable", ["not-applicable"], ["not-applicable"])),
        art("80000006", "A case of ketamine use", 2018, {"ptsd"},
            ann(["case-report"], ["unknown"], ["ketamine"], ["recreational-use"], None,
                ["not-applicable"])),
    ]
