"""The page in a real browser: Debian's Chromium, driven by Playwright, against `ketlit serve`.

Search, filter by a facet, page, open a record, select two results and export them as RIS (the
download is read back with rispy); a record whose title holds a <script> is shown as text and
runs nothing; keyboard and narrow-window basics. Without Chromium these tests fail under CI=true
(CI installs it) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import rispy

from tests.web.conftest import PLAIN_PMID, XSS_PMID, XSS_TITLE

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("KETLIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.environ.get("KETLIT_SCREENSHOTS")  # a directory, to look at the page by eye


def _need_chromium() -> None:
    if CHROMIUM.exists() or shutil.which(str(CHROMIUM)):
        return
    message = (f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) "
               "or set KETLIT_CHROMIUM")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(reason=message)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user data dir
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            accept_downloads=True, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(15000)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(context) -> Iterator:
    pg = context.new_page()
    pg.dialogs = []  # every alert/confirm/prompt the page opens would land here

    def on_dialog(dialog) -> None:
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.page_errors = []
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))
    yield pg
    pg.close()


def _shot(pg, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _count(pg) -> int:
    text = pg.locator("#result-count").inner_text()
    m = re.search(r"([\d,]+) (?:new )?records?", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


def test_search_filter_page_open_select_and_export_ris(server: str, page, tmp_path: Path) -> None:
    pg = page
    pg.goto(server + "/")
    pg.get_by_label("Search PubMed records").fill("cancer")
    pg.keyboard.press("Enter")
    pg.wait_for_url(re.compile(r"[?&]q=cancer"))
    total = _count(pg)
    assert total > 40
    _shot(pg, "search")

    # filter by a facet: the count shown beside the topic is the number of results after
    ptsd = pg.get_by_label(re.compile(r"^Ketamine for PTSD"))
    label = pg.locator("label", has_text="Ketamine for PTSD").inner_text()
    shown = int(re.search(r"\((\d[\d,]*)\)", label).group(1).replace(",", ""))
    ptsd.check()
    pg.get_by_role("button", name="Apply filters").click()
    pg.wait_for_url(re.compile(r"topic=ptsd"))
    assert _count(pg) == shown
    assert pg.get_by_label(re.compile(r"^Ketamine for PTSD")).is_checked()

    # page: the next page continues the numbering and shows other records
    first_page = pg.locator("ol.hits h3").all_inner_texts()
    pg.get_by_role("link", name="Next page").click()
    pg.wait_for_url(re.compile(r"page=2"))
    assert pg.locator("ol.hits").get_attribute("start") == "21"
    second_page = pg.locator("ol.hits h3").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)
    assert "topic=ptsd" in pg.url  # the filter survives paging: the URL holds the search

    # open a record, then come back to the same results
    title = second_page[0]
    pg.locator("ol.hits h3 a").first.click()
    pg.wait_for_url(re.compile(r"/records/\d+"))
    assert pg.get_by_role("heading", level=1).inner_text() == title
    assert pg.get_by_role("heading", name="Similar articles").is_visible()
    _shot(pg, "record")
    pg.get_by_role("link", name="← Back to results").click()
    pg.wait_for_url(re.compile(r"page=2"))

    # select two results and export them as RIS
    boxes = pg.locator("ol.hits input.select-box")
    boxes.nth(0).check()
    boxes.nth(2).check()
    chosen = {boxes.nth(0).get_attribute("value"), boxes.nth(2).get_attribute("value")}
    button = pg.get_by_role("button", name=re.compile(r"Export selected"))
    assert re.search(r"\(2\)", button.inner_text())
    pg.get_by_label("Export format").select_option("ris")
    with pg.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".ris")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    entries = rispy.loads(target.read_text(encoding="utf-8"))
    assert len(entries) == 2
    exported = {e.get("accession_number") or _pmid_from_url(e) for e in entries}
    assert exported == chosen
    assert not pg.dialogs and not pg.page_errors


def test_a_topic_without_words_lists_and_exports_it(server: str, page, tmp_path: Path) -> None:
    pg = page
    pg.goto(server + "/")
    assert "Type a query above" in pg.locator("#result-count").inner_text()
    pg.get_by_label(re.compile(r"^Ketamine for OCD")).check()
    pg.get_by_role("button", name="Apply filters").click()
    pg.wait_for_url(re.compile(r"topic=ocd"))
    assert "matching the filters, newest first" in pg.locator("#result-count").inner_text()
    total = _count(pg)
    assert total > 20 and pg.locator("ol.hits li").count() == 20
    assert re.search(r"\(1 retracted in these results\)",
                     pg.locator("label[for=no-retracted]").inner_text())
    _shot(pg, "browse-topic")
    pg.get_by_label("Export format").select_option("ris")
    with pg.expect_download() as info:
        pg.get_by_role("button", name=re.compile(r"Export all")).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert len(rispy.loads(target.read_text(encoding="utf-8"))) == total
    assert not pg.dialogs and not pg.page_errors


def _pmid_from_url(entry: dict) -> str | None:
    for url in entry.get("urls") or []:
        m = re.search(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)", url)
        if m:
            return m.group(1)
    return None


def test_title_with_script_is_shown_as_text(server: str, page) -> None:
    pg = page
    pg.goto(server + "/?q=xenomarkup")
    link = pg.locator(f"#t-{XSS_PMID} a")
    assert link.inner_text() == XSS_TITLE
    assert "<script>" in link.inner_text()
    snippet = pg.locator("ol.hits .snippet").first
    assert snippet.locator("mark").count() >= 1
    assert pg.evaluate("typeof window.__xss") == "undefined"
    _shot(pg, "markup-results")

    link.click()
    pg.wait_for_url(re.compile(f"/records/{XSS_PMID}"))
    assert "<script>window.__xss" in pg.get_by_role("heading", level=1).inner_text()
    assert "<img src=x onerror=alert(1)>" in pg.locator("main").inner_text()
    assert pg.locator("main img, main script, main b").count() == 0
    assert pg.get_by_text("Retracted", exact=True).first.is_visible()
    assert pg.evaluate("typeof window.__xss") == "undefined"
    _shot(pg, "markup-record")
    assert not pg.dialogs, f"a dialog opened: {pg.dialogs}"
    assert not pg.page_errors


def test_keyboard_labels_and_narrow_window(server: str, page) -> None:
    pg = page
    pg.goto(server + "/?q=xenomarkup")
    # the first Tab reaches the skip link, which moves focus to the main content
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.textContent") == "Skip to main content"
    pg.keyboard.press("Enter")
    assert pg.evaluate("document.activeElement.id") == "main"
    # every form control has an accessible name
    unnamed = pg.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, button')).filter(el => {
          const labelled = el.labels && el.labels.length > 0;
          return !labelled && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
                 && !(el.tagName === 'BUTTON' && el.textContent.trim());
        }).map(el => el.outerHTML)""")
    assert unnamed == []
    assert pg.locator("[role=search]").count() == 1 and pg.locator("main").count() == 1
    assert pg.locator("#result-count").get_attribute("aria-live") == "polite"
    # select a record with the keyboard alone
    pg.locator(f"#sel-{PLAIN_PMID}").focus()
    pg.keyboard.press("Space")
    assert pg.locator("#selected-count").inner_text() == "1"
    # a narrow window: nothing wider than the screen
    pg.set_viewport_size({"width": 360, "height": 740})
    pg.reload()
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(pg, "narrow")


def test_year_chart_bars_filter_that_year(server: str, page) -> None:
    pg = page
    pg.goto(server + "/?q=cancer")
    chart = pg.locator("#year-chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 150 and box["height"] > 40
    bars = pg.locator("#year-chart a.year-bar")
    assert bars.count() >= 3
    counts = [int(c) for c in bars.evaluate_all("els => els.map(e => e.dataset.count)")]
    assert sum(counts) == _count(pg)  # the whole result set, not the page
    _shot(pg, "year-chart")
    year = bars.nth(0).get_attribute("data-year")
    expected = counts[0]
    bars.nth(0).click()
    pg.wait_for_url(re.compile(rf"from={year}&to={year}"))
    assert _count(pg) == expected
    assert pg.locator("#year-chart a.year-bar.is-selected").count() == 1
    assert not pg.page_errors


def test_home_overview_new_pages_and_export_all(server: str, page, tmp_path: Path) -> None:
    pg = page
    pg.goto(server + "/")
    table = pg.locator("#topic-table")
    assert table.is_visible() and table.locator("tbody tr").count() == 3
    assert pg.locator("#newest li").count() == 8
    _shot(pg, "home")
    # each topic's Atom link answers a valid feed, as a feed reader following it would read it
    import feedparser

    href = pg.get_by_role("link", name="Atom feed of Ketamine for PTSD").get_attribute("href")
    feed = feedparser.parse(pg.request.get(server + href).body())
    assert not feed.bozo and feed.version == "atom10" and len(feed.entries) == 50
    assert all("ptsd" in {t.term for t in e.tags} for e in feed.entries)
    pg.get_by_role("link", name="New since the last harvest").click()
    pg.wait_for_url(re.compile(r"/new$"))
    total = _count(pg)
    assert total > 300 and pg.locator("ol.hits > li").count() == 20
    first = pg.locator("ol.hits h3").all_inner_texts()
    pg.get_by_role("link", name="Next page").click()
    pg.wait_for_url(re.compile(r"/new\?page=2"))
    assert pg.locator("ol.hits").get_attribute("start") == "21"
    assert not set(first) & set(pg.locator("ol.hits h3").all_inner_texts())
    _shot(pg, "new-page-2")
    pg.get_by_label("Export format").select_option("ris")
    with pg.expect_download() as info:
        pg.get_by_role("button", name=re.compile(r"Export all")).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert len(rispy.loads(target.read_text(encoding="utf-8"))) == total
    assert not pg.page_errors


def test_record_page_numbers_affiliations_and_uses_the_width(server: str, page) -> None:
    pg = page
    pg.goto(server + f"/records/{XSS_PMID}")
    assert pg.locator("#affiliations li").count() == 1
    assert pg.locator("#authors sup a").first.inner_text() == "1"
    article = pg.locator("article.record").bounding_box()
    similar = pg.locator("section.similar").bounding_box()
    assert article and similar and similar["x"] > article["x"] + article["width"] - 1  # beside
    assert article["width"] + similar["width"] > 1000
    _shot(pg, "record-wide")
    assert not pg.page_errors


# -- evidence annotations (issue 16): facets, badges, the record's section, the map ---------------

@pytest.fixture(scope="module")
def evidence_server(evidence_settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ketlit serve` over tests/search/evidence_records.py (annotations given, not computed)."""
    import signal
    import subprocess

    from tests.helpers import REPO, ketlit_executable, write_config

    topics = {name: {"query": f"{name}[tiab]", "label": name} for name in ("depression", "ptsd")}
    config = write_config(tmp_path_factory.mktemp("evidence-serve"),
                          data_dir=str(evidence_settings.data_dir), topics=topics)
    env = {k: v for k, v in os.environ.items() if k != "KETLIT_DEBUG"}
    proc = subprocess.Popen([*ketlit_executable(), "--config", str(config), "serve", "--port",
                             "0"], stderr=subprocess.PIPE, text=True, cwd=str(REPO), env=env)
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


@pytest.mark.slow
def test_evidence_facets_badges_record_and_map(evidence_server: str, page) -> None:
    page.goto(f"{evidence_server}/?q=ketamine")
    assert _count(page) == 6
    # tick a design facet and apply: the results, the URL and the badges follow
    page.get_by_label(re.compile(r"^rct \(3\)")).check()
    page.locator("#apply-filters").click()
    page.wait_for_url(re.compile(r"design=rct"))
    assert _count(page) == 3
    badges = page.locator(".hit-evidence .badge-design")
    assert badges.count() == 3 and set(badges.all_inner_texts()) == {"rct"}
    assert page.locator(".hit-evidence", has_text="n = 224").count() == 1
    # at least 50 participants
    page.fill("#min-participants", "50")
    page.locator("#apply-filters").click()
    page.wait_for_url(re.compile(r"min_participants=50"))
    assert _count(page) == 2
    _shot(page, "evidence-search")
    # the record page's Evidence section
    page.locator(".hit-title a", has_text="Intranasal esketamine").click()
    section = page.locator("#evidence")
    assert "treatment-resistant-depression" in section.inner_text()
    assert "NCT01234567" in section.inner_text()
    # the evidence map: a cell opens the search it stands for, with the same count
    page.goto(f"{evidence_server}/evidence")
    assert page.locator("nav a", has_text="Evidence map").get_attribute("aria-current") == "page"
    cell = page.locator('#map-condition-drug a[data-row="depression"][data-col="esketamine"]')
    assert cell.inner_text() == "3"
    _shot(page, "evidence-map")
    cell.click()
    page.wait_for_url(re.compile(r"condition=depression"))
    assert _count(page) == 3
    assert page.locator('input[type=checkbox][name="drug"][value="esketamine"]').is_checked()
    assert page.locator('input[type=checkbox][name="condition"][value="depression"]').is_checked()
    assert not page.page_errors
