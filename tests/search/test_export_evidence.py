"""Exports carry the evidence annotations (issue 16 point 2): CSV columns, RIS KW, CSL keyword."""

from __future__ import annotations

import csv
import io
import json

import rispy

from index.article import Article
from search.export import write_export
from tests.search.evidence_records import evidence_articles


def _export(fmt: str, articles: list[Article]) -> str:
    out = io.StringIO()
    write_export(articles, fmt, out)
    return out.getvalue()


def _first() -> Article:
    return evidence_articles()[0]


def test_csv_has_one_column_per_annotation_after_the_contract_columns() -> None:
    rows = list(csv.DictReader(io.StringIO(_export("csv", [_first(), Article(pmid="7")])
                                           .lstrip("\ufeff"))))
    header = list(rows[0])
    assert header[:12] == ["PMID", "Title", "Authors", "Journal", "Year", "Volume", "Issue",
                           "Pages", "DOI", "PMCID", "Publication types", "Abstract"]
    assert header[-8:] == ["Design", "Route", "Drug", "Condition", "Participants", "Phase",
                           "Control", "Registry"]
    row = rows[0]
    assert row["Design"] == "rct" and row["Route"] == "intranasal"
    assert row["Condition"] == "treatment-resistant-depression; depression"
    assert row["Participants"] == "224" and row["Registry"] == "NCT01234567"
    assert rows[1]["Design"] == "" and rows[1]["Participants"] == ""  # never annotated


def test_ris_and_csl_json_keywords_carry_the_annotations() -> None:
    entry = rispy.loads(_export("ris", [_first()]))[0]
    assert {"design: rct", "route: intranasal", "drug: esketamine", "phase: phase-3",
            "participants: 224", "registry: NCT01234567"} <= set(entry["keywords"])
    item = json.loads(_export("csl-json", [_first()]))[0]
    assert "design: rct" in item["keyword"] and "participants: 224" in item["keyword"]
