"""Fixtures for the web tests: one indexed data directory shared by the API, fuzz and browser tests.

The shared sample records are stored under three topics (assigned by PMID so facets have
predictable, overlapping counts) plus two records made up here: one whose title and abstract
carry markup (a <script> and an onerror image) that must be shown as text, retracted, with a
structured abstract; and a plain companion so a selection of two is always possible.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.article import Article, Author, MeshHeading
from index.settings import Settings, load_settings
from index.store import RecordStore
from tests.helpers import REPO, ketlit_executable, write_config

TOPICS = {
    "depression": {"label": "Ketamine for depression", "query": "ketamine AND depression"},
    "ptsd": {"label": "Ketamine for PTSD", "query": "ketamine AND ptsd"},
    "ocd": {"label": "Ketamine for OCD", "query": "ketamine AND ocd"},
}
XSS_PMID = "99000001"
PLAIN_PMID = "99000002"
XSS_TITLE = ('<script>window.__xss = 1; alert("xss")</script> Xenomarkup ketamine '
             '<b>bold</b> & <i>italic</i> title')


def topics_for(pmid: str) -> list[str]:
    n = int(pmid)
    out = []
    if n % 2 == 0:
        out.append("depression")
    if n % 3 == 0:
        out.append("ptsd")
    if not out:
        out.append("ocd")
    return out


def crafted_articles() -> list[Article]:
    xss = Article(
        pmid=XSS_PMID,
        title=XSS_TITLE,
        abstract=("BACKGROUND: Xenomarkup ketamine <img src=x onerror=alert(1)> study.\n"
                  "RESULTS: Depression improved <script>alert(2)</script>."),
        abstract_sections=[("BACKGROUND", "Xenomarkup ketamine <img src=x onerror=alert(1)> study."),
                           ("RESULTS", "Depression improved <script>alert(2)</script>.")],
        authors=[Author(last="O'Brien<b>", fore="Zoë", initials="Z",
                        affiliations=("Dept <u>of</u> Psychiatry",)),
                 Author(collective="Ketamine <em>Study</em> Group")],
        journal="Journal of <Markup> Psychiatry", journal_iso="J Markup Psychiatry",
        volume="12", issue="3", pages="45-67", pub_year=2024, pub_date="2024 Mar",
        doi="10.1000/xss.2024.1", pmcid="PMC9900001", languages=["eng"],
        publication_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[MeshHeading("Ketamine", major=True, qualifiers=(("therapeutic use", True),)),
              MeshHeading("Depression")],
        keywords=["xenomarkup", "<script>kw</script>"],
        retracted=True, retraction_pmids=["99000009"],
    )
    plain = Article(
        pmid=PLAIN_PMID, title="Xenomarkup companion record on esketamine",
        abstract="A plain companion record about esketamine and xenomarkup.",
        authors=[Author(last="Smith", fore="Jane", initials="J")],
        journal="Journal of Plain Results", journal_iso="J Plain Res", pub_year=2023,
        pub_date="2023", languages=["eng"], publication_types=["Journal Article", "Review"],
    )
    return [xss, plain]


def build_data(directory: Path, articles: list[Article]) -> tuple[Settings, Path]:
    """Store ``articles`` under their topics, index them, return (settings, config path)."""
    from index.whoosh.writer import rebuild_index

    config = write_config(directory, topics=TOPICS)
    settings = load_settings(config)
    by_topic: dict[str, list[Article]] = {}
    for art in articles:
        for t in topics_for(art.pmid):
            by_topic.setdefault(t, []).append(art)
    with RecordStore(settings.store_path) as store:
        for topic, arts in by_topic.items():
            store.upsert(arts, topic=topic)
    rebuild_index(settings)
    return settings, config


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory, sample_articles: list) -> tuple[Settings, Path]:
    """(settings, config path) of an indexed data dir: the shared records + the crafted ones."""
    directory = tmp_path_factory.mktemp("web")
    return build_data(directory, [*sample_articles, *crafted_articles()])


@pytest.fixture(scope="session")
def web_settings(web_data: tuple[Settings, Path]) -> Settings:
    return web_data[0]


@pytest.fixture(scope="session")
def web_config(web_data: tuple[Settings, Path]) -> Path:
    return web_data[1]


@pytest.fixture(scope="session")
def empty_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A configured data dir with nothing harvested yet."""
    directory = tmp_path_factory.mktemp("web-empty")
    return load_settings(write_config(directory, topics=TOPICS))


@pytest.fixture(scope="module")
def server(web_config: Path) -> Iterator[str]:
    """`ketlit serve --port 0` as a user runs it; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if k != "KETLIT_DEBUG"}
    proc = subprocess.Popen([*ketlit_executable(), "--config", str(web_config), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=str(REPO),
                            env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not m:
        proc.kill()
        pytest.fail(f"ketlit serve did not start: {line}{proc.stderr.read()}")
    try:
        yield m.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
