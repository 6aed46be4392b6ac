"""Whoosh segments and commits during a harvest (moved from tests/harvester/test_harvest.py:
it reads Whoosh's own generation count)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harvester.harvest import run_harvest
from tests.harvester.test_harvest import assert_matches_server, efetches, make_settings


def test_short_batches_at_window_ends_share_an_index_commit(tmp_path: Path,
                                                             eutils_server: Any) -> None:
    """Each index commit makes a Whoosh segment; a window's short last batch waits for the
    next window's records so that commits stay batch-sized (tiny segments brought merges on
    early). The store still commits every batch."""
    from whoosh import index as whoosh_index

    from index.whoosh.writer import live_index_dir

    topics = {"patients": "patients"}
    settings = make_settings(tmp_path, eutils_server, topics, max_results_per_query=30,
                             batch_size=20)
    report = run_harvest(settings)
    assert report.ok, report.summary_lines()
    assert_matches_server(settings, eutils_server, topics)
    efetch_batches = len(efetches(eutils_server))
    windows = report.topics[0].windows
    assert efetch_batches > 109 // 20 + 1  # windows under the cap of 30 end in short batches
    directory = live_index_dir(settings)
    assert directory is not None
    commits = whoosh_index.open_dir(str(directory)).latest_generation()
    # ceil(109 / 20) = 6 full-or-final commits after the empty index's generation 0.
    assert commits <= 6, (commits, efetch_batches, windows)
