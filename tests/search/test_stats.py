"""ketlit stats: counts per configured topic (zero included), year, type; last runs."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from index.settings import Settings, Topic, settings_from_mapping
from index.store import RecordStore
from search.stats import collect_stats, render_stats_text
from tests.helpers import run_ketlit


def test_stats_from_the_indexed_sample(indexed_settings: Settings) -> None:
    settings = replace(indexed_settings, topics={**indexed_settings.topics,
                                                 "bipolar": Topic("bipolar", "x")})
    data = collect_stats(settings)
    store = RecordStore(settings.store_path)
    try:
        assert data["total"] == store.count() > 390
    finally:
        store.close()
    assert data["topics"] == {"depression": 6, "ptsd": 7, "ocd": 1, "bipolar": 0}
    assert sum(data["years"].values()) <= data["total"]
    assert data["years"]["2019"] >= 1
    assert data["publication_types"]["Journal Article"] > 300
    assert data["counts_from"] == "index"
    text = render_stats_text(data)
    assert "by topic:" in text and "bipolar     0" in text
    assert "no harvest has run yet" in text


def test_stats_without_index_count_from_the_store(tmp_path: Path,
                                                  indexed_settings: Settings) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(indexed_settings.data_dir, data_dir, symlinks=True)
    settings = replace(indexed_settings, data_dir=data_dir)
    (data_dir / "index").unlink()
    data = collect_stats(settings)
    assert data["counts_from"] == "store"
    assert data["topics"]["depression"] == 6
    assert data["years"] == collect_stats(indexed_settings)["years"]


@pytest.mark.slow
def test_stats_on_a_fresh_install_lists_every_topic(tmp_path: Path) -> None:
    settings = settings_from_mapping(
        {"data_dir": str(tmp_path / "d"), "topics": {"depression": {"query": "x"},
                                                     "ocd": {"query": "y"}}}, tmp_path)
    assert collect_stats(settings)["topics"] == {"depression": 0, "ocd": 0}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'd'}\ntopics:\n  depression: {{query: x}}\n",
                   encoding="utf-8")
    proc = run_ketlit(["stats", "--json"], cfg, check=True)
    out = json.loads(proc.stdout)
    assert out["total"] == 0 and out["topics"] == {"depression": 0}


def test_last_runs_are_reported(tmp_path: Path, indexed_settings: Settings) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(indexed_settings.data_dir, data_dir, symlinks=True)
    settings = replace(indexed_settings, data_dir=data_dir)
    store = RecordStore(settings.store_path)
    run = store.start_run("ptsd", "incremental")
    store.finish_run(run, "ok", new=3)
    store.close()
    data = collect_stats(settings)
    assert data["last_runs"]["ptsd"]["status"] == "ok"
    assert data["last_runs"]["ptsd"]["new"] == 3
    assert "ptsd: ok at" in render_stats_text(data)


def test_stats_text_draws_a_year_histogram_with_counts(indexed_settings: Settings) -> None:
    data = collect_stats(indexed_settings)
    text = render_stats_text(data)
    newest, n = next(iter(data["years"].items()))
    assert re.search(rf"^  {newest}\s+{n:,}  █+$", text, re.M)
    peak = max(list(data["years"].values())[:15])
    assert re.search(rf"\s{peak:,}  {'█' * 40}$", text, re.M)
