"""What a harvest reports (harvester/report.py): the line per topic the CLI prints, and when a
run counts as ok (the CLI's exit status)."""

from __future__ import annotations

from harvester.report import HarvestReport, TopicReport


def test_each_status_has_its_line() -> None:
    ok = TopicReport("ptsd", "incremental", status="ok", windows=2, requests=5, new=3, updated=1)
    assert ok.line() == ("ptsd: 3 new, 1 updated, 0 deleted; 2 window(s), 5 request(s) "
                         "(incremental)")
    stopped = TopicReport("ptsd", "full", status="interrupted", new=4)
    assert stopped.line().startswith("ptsd: interrupted after 4 new") and "resumes" in stopped.line()
    skipped = TopicReport("ocd", "skipped", status="skipped", error="PubMed could not be reached")
    assert skipped.line() == "ocd: not harvested (PubMed could not be reached)"
    failed = TopicReport("ocd", "full", status="failed", error="HTTP 500", new=2)
    assert failed.line().startswith("ocd: FAILED: HTTP 500; 2 new") and "kept" in failed.line()


def test_a_run_is_ok_unless_a_topic_failed_and_an_interruption_says_how_to_finish() -> None:
    report = HarvestReport([TopicReport("a", "full", status="ok"),
                            TopicReport("b", "full", status="interrupted")],
                           interrupted=True, stop_reason="SIGTERM")
    assert report.ok
    assert report.summary_lines()[-1].startswith("harvest interrupted (SIGTERM)")
    report.topics.append(TopicReport("c", "full", status="failed", error="x"))
    assert not report.ok


def test_missing_pmids_are_listed_up_to_twenty() -> None:
    tr = TopicReport("a", "full", status="ok", missing=[str(i) for i in range(25)])
    line = HarvestReport([tr]).summary_lines()[1]
    assert line.startswith("a: 25 PMID(s) listed by esearch that PubMed no longer returns: 0, 1")
    assert line.endswith("19 ...")
