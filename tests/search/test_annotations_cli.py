"""`ketlit search --json` and `show --json` carry each record's evidence annotations (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_ketlit, write_config

XML = """<?xml version="1.0" encoding="UTF-8"?>
<PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">31000001</PMID><Article PubModel="Print">
<Journal><JournalIssue><PubDate><Year>2021</Year></PubDate></JournalIssue><Title>J</Title></Journal>
<ArticleTitle>Intranasal esketamine in treatment-resistant depression: a randomized,
placebo-controlled trial</ArticleTitle>
<Abstract><AbstractText>We randomized 120 patients. Trial registration: NCT01234567.</AbstractText>
</Abstract><Language>eng</Language></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


@pytest.mark.slow
def test_search_and_show_json_carry_annotations(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    src = tmp_path / "one.xml"
    src.write_text(XML, encoding="utf-8")
    run_ketlit(["ingest", str(src)], cfg, check=True)
    hit = json.loads(run_ketlit(["search", "esketamine", "--json"], cfg, check=True).stdout)[
        "results"][0]
    ann = hit["annotations"]
    assert ann["design"] == ["rct"] and ann["route"] == ["intranasal"]
    assert ann["drug"] == ["esketamine"] and ann["participants"] == 120
    assert ann["registry"] == ["NCT01234567"]
    shown = json.loads(run_ketlit(["show", "31000001", "--json"], cfg, check=True).stdout)
    assert shown["annotations"] == ann
