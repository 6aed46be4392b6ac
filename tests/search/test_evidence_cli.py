"""The evidence filters on the command line: search, export and new (issue 16 point 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.settings import Settings
from tests.helpers import run_ketlit, write_config


@pytest.fixture(scope="module")
def config(evidence_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    topics = {name: {"query": f"{name}[tiab]", "label": name} for name in ("depression", "ptsd")}
    return write_config(tmp_path_factory.mktemp("evidence-cli"),
                        data_dir=str(evidence_settings.data_dir), topics=topics)


def _pmids(stdout: str) -> set[str]:
    return {r["pmid"] for r in json.loads(stdout)["results"]}


@pytest.mark.slow
def test_search_export_and_new_take_the_evidence_filters(config: Path) -> None:
    out = run_ketlit(["search", "--design", "rct", "--route", "intranasal", "--json"], config,
                     check=True).stdout
    assert _pmids(out) == {"80000001", "80000002"}
    assert json.loads(out)["facets"]["phase"] == {"phase-2": 1, "phase-3": 1}
    out = run_ketlit(["search", "ketamine", "--min-participants", "50", "--phase", "3",
                      "--json"], config, check=True).stdout
    assert _pmids(out) == {"80000001"}
    out = run_ketlit(["search", "esketamine[drug] AND suicidality[condition]", "--json"],
                     config, check=True).stdout
    assert _pmids(out) == {"80000002"}
    csv_out = run_ketlit(["export", "--condition", "ptsd", "--format", "csv"], config,
                         check=True).stdout
    assert "80000003" in csv_out and "80000001" not in csv_out
    out = run_ketlit(["new", "--since", "2000-01-01", "--drug", "esketamine", "--design", "rct",
                      "--json"], config, check=True).stdout
    assert _pmids(out) == {"80000001", "80000002"}


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["search", "--route", "rectal"],
    ["export", "--design", "anecdote", "--format", "ris"],
    ["new", "--drug", "aspirin"],
    ["search", "ketamine rectal[route]"],
])
def test_unknown_label_is_one_line_listing_the_known_ones(config: Path, args: list[str]) -> None:
    proc = run_ketlit(args, config)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "known:" in lines[0] and "Traceback" not in proc.stderr
