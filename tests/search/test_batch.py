"""Batch mode through the real console script and the library."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from index.errors import UsageError
from index.settings import Settings
from search.batch import read_batch_file, run_batch
from search.searcher import open_searcher
from tests.helpers import run_ketlit


def _config(tmp_path: Path, settings: Settings) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {settings.data_dir}\ntopics:\n  depression: {{query: x}}\n"
                   "  ptsd: {query: y}\n  ocd: {query: z}\n", encoding="utf-8")
    return cfg


@pytest.mark.slow
def test_trec_run_via_the_cli(tmp_path: Path, indexed_settings: Settings) -> None:
    qfile = tmp_path / "q.tsv"
    qfile.write_text("# comment\nq1\tesketamine nasal spray\n\nq2\tketamine obsessions\n",
                     encoding="utf-8")
    proc = run_ketlit(["search", "--batch", str(qfile), "--match", "any", "--limit", "3"],
                      _config(tmp_path, indexed_settings), check=True)
    lines = [ln.split() for ln in proc.stdout.splitlines()]
    assert all(len(ln) == 6 and ln[1] == "Q0" and ln[5] == "ketlit" for ln in lines)
    q1 = [ln for ln in lines if ln[0] == "q1"]
    assert q1[0][2] == "90000001" and [ln[3] for ln in q1] == ["1", "2"]  # two match
    scores = [float(ln[4]) for ln in q1]
    assert scores == sorted(scores, reverse=True)
    q2 = [ln for ln in lines if ln[0] == "q2"]
    assert q2[0][2] == "90000004" and len(q2) == 3  # --limit


def test_jsonl(indexed_settings: Settings, tmp_path: Path) -> None:
    qfile = tmp_path / "q.tsv"
    qfile.write_text("a\tketamine\n", encoding="utf-8")
    out = io.StringIO()
    with open_searcher(indexed_settings) as s:
        run_batch(s, qfile, match="all", limit=2, fmt="jsonl", out=out,
                  filters={"topics": ["ptsd"]})
    row = json.loads(out.getvalue())
    assert row["qid"] == "a" and row["total"] == 2 and len(row["results"]) == 2


@pytest.mark.parametrize(("text", "message"), [
    ("q1\tketamine\nq2 no tab\n", "line 2: expected 'qid<TAB>query'"),
    ("q1\t\n", "line 1"),
    ("q1\tketamine\nq1\tdepression\n", "line 2: query id 'q1' repeats line 1"),
])
def test_bad_lines_are_named(tmp_path: Path, text: str, message: str) -> None:
    qfile = tmp_path / "q.tsv"
    qfile.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        read_batch_file(qfile)


@pytest.mark.slow
def test_a_bad_query_fails_only_its_own_qid(tmp_path: Path, indexed_settings: Settings) -> None:
    qfile = tmp_path / "q.tsv"
    qfile.write_text("q1\tketamine\nq2\t(ketamine\nq3\tesketamine\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with open_searcher(indexed_settings) as s:
        failed = run_batch(s, qfile, match="all", limit=5, fmt="trec", out=out, filters={},
                           err=err)
    assert failed == 1
    assert {ln.split()[0] for ln in out.getvalue().splitlines()} == {"q1", "q3"}
    assert "line 2 (query q2)" in err.getvalue()
    proc = run_ketlit(["search", "--batch", str(qfile)], _config(tmp_path, indexed_settings))
    assert proc.returncode == 2
    assert {ln.split()[0] for ln in proc.stdout.splitlines()} == {"q1", "q3"}
    assert "line 2 (query q2)" in proc.stderr and "unbalanced parenthesis" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("text", [
    "Does ketamine (esketamine help depression?", "1) ketamine vs. placebo: which is better",
    'the "rapid antidepressant effect of ketamine', "ketamine [1] and depression ]",
    "ketamine AND OR NOT depression", "- ketamine ~3 * depression (", "-rats ketamine:",
])
def test_match_any_reads_text_as_text(indexed_settings: Settings, text: str) -> None:
    from search.searcher import SearchRequest

    with open_searcher(indexed_settings) as s:
        resp = s.search(SearchRequest(query=text, match="any"))
    assert resp.total > 0


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_batch_file(tmp_path / "nope.tsv")
