"""harvester.parse_worker: efetch answers parsed in a helper process give exactly what parsing in
this process gives; errors, a dead helper and a killed harvest are all handled."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from harvester.parse import parse_articles
from harvester.parse_worker import MIN_BYTES, ParseWorker
from index.annotations import annotate
from tests.eutils_server import EFETCH_HEAD, RecordDB
from tests.helpers import REPO

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def body() -> bytes:
    """A real efetch answer: every record of ../shared/data/pubmed in one PubmedArticleSet."""
    db = RecordDB.from_shared()
    records = [db.record_xml(p) or b"" for p in db.pmids()]
    data = EFETCH_HEAD + b"<PubmedArticleSet>\n" + b"\n".join(records) + b"\n</PubmedArticleSet>\n"
    assert len(data) > MIN_BYTES  # large enough to go to the helper with the default threshold
    return data


def helper_pid(worker: ParseWorker) -> int:
    assert worker.pid is not None, "the helper was not started"
    return worker.pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state in /proc says it is gone.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_helper_gives_the_same_articles_as_parsing_here(body: bytes) -> None:
    here = parse_articles(body)
    for a in here:  # the helper also annotates them (issue 16), as the store would
        a.annotations = annotate(a)
    with ParseWorker() as worker:
        there = worker(body)
        assert worker.parsed_remotely == 1
        assert helper_pid(worker) != os.getpid()
    assert len(there) == len(here) > 300
    assert there == here


def test_small_answers_are_parsed_here_without_starting_a_process(body: bytes) -> None:
    small = parse_articles(body)[:1]
    one = EFETCH_HEAD + b"<PubmedArticleSet>\n" + RecordDB.from_shared().record_xml(
        small[0].pmid) + b"\n</PubmedArticleSet>\n"
    with ParseWorker() as worker:
        assert worker(one) == small
        assert worker.pid is None
        assert worker.parsed_remotely == 0


def test_unreadable_xml_raises_value_error_with_lxmls_message_and_the_helper_goes_on(
        body: bytes) -> None:
    with ParseWorker(min_bytes=0) as worker:
        with pytest.raises(ValueError, match="line"):
            worker(body[: len(body) // 2])  # truncated mid-record, as a dropped connection
        assert len(worker(body)) > 300
        assert worker.parsed_remotely == 1


def test_a_dead_helper_is_replaced_by_parsing_here(body: bytes,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with ParseWorker(min_bytes=0) as worker:
        worker(body)
        pid = helper_pid(worker)
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid, 10)
        with caplog.at_level(logging.WARNING, logger="ketlit.harvest"):
            assert worker(body) == parse_articles(body)
        assert "helper process failed" in caplog.text
        assert worker.parsed_remotely == 1  # the second answer was parsed here


def test_the_helper_ignores_signals_meant_for_the_harvest(body: bytes) -> None:
    # Ctrl-C and systemd's SIGTERM reach the whole process group; the harvest decides when to
    # stop (between batches) and still needs its parser until then.
    with ParseWorker(min_bytes=0) as worker:
        worker(body)
        pid = helper_pid(worker)
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.3)
        assert alive(pid)
        worker(body)
        assert worker.parsed_remotely == 2
    assert wait_gone(pid, 10), "close() did not stop the helper"


# A script without a __main__ guard, as a user's own harvest script may be: the helper must not
# run it again (multiprocessing's spawn would).
CHILD = """
import sys, time
from harvester.parse_worker import ParseWorker
worker = ParseWorker(min_bytes=0)
worker(open(sys.argv[1], "rb").read())
print(worker.pid, flush=True)
time.sleep(600)
"""


def test_the_helper_exits_when_the_harvest_is_killed(body: bytes, tmp_path) -> None:
    answer = tmp_path / "answer.xml"
    answer.write_bytes(body)
    script = tmp_path / "my_harvest.py"
    script.write_text(CHILD, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(answer)], cwd=str(REPO),
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        assert alive(pid)
        proc.kill()  # kill -9: no chance to close the worker
        proc.wait()
        assert wait_gone(pid, 10), "the helper outlived the harvest"
    finally:
        proc.kill()


def test_the_helper_analyses_the_text_for_the_index_once_per_record(body: bytes) -> None:
    from index.whoosh.schema import analyse, article_to_document

    with ParseWorker() as worker:
        articles = worker(body)
        for article in articles[:40]:
            there = worker.analysis(article)
            assert there is not None
            assert there == analyse(article)
            assert (article_to_document(article, True, there)
                    == article_to_document(article, True))
            assert worker.analysis(article) is None  # taken once
        # Parsed here (too small for the helper): no analysis, the writer analyses itself.
        small = ParseWorker(min_bytes=len(body) + 1)
        assert small.analysis(small(body)[0]) is None


def test_only_the_last_answers_analyses_are_kept(body: bytes) -> None:
    from harvester.parse_worker import KEEP_ANSWERS

    with ParseWorker() as worker:
        for _ in range(KEEP_ANSWERS + 2):
            article = worker(body)[0]
        found = 0
        while worker.analysis(article) is not None:
            found += 1
    assert found == KEEP_ANSWERS
