"""Export plumbing: the shared field logic, the format registry, record selection and the real
`ketlit export` command against an index built by `ketlit ingest`."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest
import rispy

from harvester.parse import parse_articles
from index.article import Article
from index.errors import UsageError
from index.settings import load_settings
from index.store import RecordStore
from search.export import EXPORT_FORMATS, get_exporter, write_export
from search.export.base import (
    expand_pages,
    journal_title,
    page_bounds,
    parse_pub_date,
    record_kind,
    strip_final_period,
)
from search.export.selection import _write_atomically, read_pmids_file
from tests.helpers import EFETCH_XML, run_ketlit, write_config
from tests.search.export_cases import all_cases, book_articles, by_pmid, export, ingested_exports

# -- shared field logic ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pages", "full"), [
    ("132-42", "132-142"), ("1234-45", "1234-1245"), ("79-89", "79-89"), ("5194-210", "5194-5210"),
    ("S12-9", "S12-S19"), ("e12516", "e12516"), ("205-7", "205-207"), ("1-5, 7-9", "1-5, 7-9"),
    ("112-4; discussion 115", "112-114; discussion 115"), ("99-101", "99-101"), (None, None),
])
def test_expand_pages(pages, full):
    assert expand_pages(pages) == full


def test_page_bounds():
    assert page_bounds("132-42") == ("132", "142")
    assert page_bounds("e42692") == ("e42692", None)
    assert page_bounds("112-4; discussion 115") == ("112", "114; discussion 115")
    assert page_bounds(None) == (None, None)


@pytest.mark.parametrize(("written", "parts"), [
    ("2008 Feb", (2008, 2, None, None, None, None)),
    ("2019 Feb 4", (2019, 2, 4, None, None, None)),
    ("2010 Sep-Oct", (2010, 9, None, 2010, 10, None)),
    ("2010 Dec-2011 Jan", (2010, 12, None, 2011, 1, None)),
    ("2002 Spring", (2002, None, None, None, None, "Spring")),
    ("1998 Winter-Spring", (1998, None, None, None, None, "Winter-Spring")),
    ("1975-1976", (1975, None, None, 1976, None, None)),
    ("2017 11 09", (2017, 11, 9, None, None, None)),
    ("2001", (2001, None, None, None, None, None)),
])
def test_parse_pub_date(written, parts):
    d = parse_pub_date(Article(pmid="1", pub_date=written, pub_year=parts[0]))
    assert (d.year, d.month, d.day, d.end_year, d.end_month, d.season) == parts


def test_titles_kinds_and_journals():
    assert strip_final_period("A title.") == "A title"
    assert strip_final_period("Why?") == "Why?"
    assert strip_final_period("Wait...") == "Wait..."
    book, chapter = book_articles()
    assert record_kind(book) == "book" and record_kind(chapter) == "chapter"
    assert record_kind(by_pmid("20729678")) == "article"
    assert journal_title(Article(pmid="1", journal="Science (New York, N.Y.)")) == "Science"
    assert journal_title(Article(pmid="1", journal="Nurse educator")) == "Nurse educator"


# -- the registry and the exporter protocol -------------------------------------------------------

def test_every_format_is_registered_with_media_type_and_extension():
    assert set(EXPORT_FORMATS) == {"ris", "bibtex", "biblatex", "medline", "csl-json", "csv", "text"}
    for name, f in EXPORT_FORMATS.items():
        assert f.name == name and "/" in f.media_type and f.extension
    assert EXPORT_FORMATS["csl-json"].extension == "json"
    assert EXPORT_FORMATS["medline"].extension == "nbib"


def test_exporter_protocol_and_empty_exports():
    art = by_pmid("20729678")
    for name in EXPORT_FORMATS:
        out = io.StringIO(newline="")
        exp = get_exporter(name, out)
        exp.start()
        exp.write(art)
        exp.write(art)
        exp.finish()
        assert exp.count == 2 and "20729678" in out.getvalue()
        empty = io.StringIO(newline="")
        assert write_export([], name, empty) == 0
    assert json.loads(_export_str([], "csl-json")) == []
    assert _export_str([], "csv").startswith("\ufeffPMID,Title")
    assert _export_str([], "ris") == ""
    with pytest.raises(UsageError, match="unknown export format 'endnote'"):
        get_exporter("endnote", io.StringIO())


def _export_str(articles, fmt):
    out = io.StringIO(newline="")
    write_export(articles, fmt, out)
    return out.getvalue()


def test_write_export_streams_from_a_generator():
    def gen():
        for _ in range(3):
            yield by_pmid("20729678")
    assert write_export(gen(), "ris", io.StringIO(newline="")) == 3


# -- --pmids files --------------------------------------------------------------------------------

def test_pmids_file_formats(tmp_path):
    f = tmp_path / "ids.txt"
    f.write_text("\ufeff# my list\n20729678\n\n 123, 456 789\n# 999 is commented\n123\n",
                 encoding="utf-8")
    assert read_pmids_file(f) == ["20729678", "123", "456", "789"]


@pytest.mark.parametrize(("content", "message"), [
    ("123\nPMC456\n", "not a PMID: 'PMC456' (line 2)"),
    ("# nothing\n\n", "lists no PMIDs"),
])
def test_pmids_file_errors(tmp_path, content, message):
    f = tmp_path / "ids.txt"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_pmids_file(f)


def test_failed_export_leaves_the_old_file_and_no_partial_file(tmp_path):
    target = tmp_path / "out.ris"
    target.write_text("previous export\n", encoding="utf-8")

    def broken():
        yield by_pmid("20729678")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        _write_atomically(target, "ris", broken())
    assert target.read_text(encoding="utf-8") == "previous export\n"
    assert list(tmp_path.iterdir()) == [target]
    assert _write_atomically(target, "ris", [by_pmid("20729678")]) == 1
    assert rispy.loads(target.read_text(encoding="utf-8"))[0]["accession_number"] == "20729678"
    assert list(tmp_path.iterdir()) == [target]


# -- the real command against a real index --------------------------------------------------------

PUBMR = EFETCH_XML / "pubMR" / "pubmed_result.xml"  # 93 records
ZOTERO = EFETCH_XML / "zotero-translators" / "PubMed_XML.js"


@pytest.fixture(scope="module")
def index_config(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("export-index")
    cfg = write_config(d, topics={
        "depression": {"label": "Depression", "query": "depression"},
        "ptsd": {"label": "PTSD", "query": "ptsd"}})
    run_ketlit(["ingest", str(PUBMR), "--topic", "depression"], cfg, check=True)
    run_ketlit(["ingest", str(ZOTERO / "testcase03.input.xml"),
                str(ZOTERO / "testcase01.input.xml"), "--topic", "ptsd"], cfg, check=True)
    return cfg


def _stored(cfg: Path) -> dict[str, Article]:
    with RecordStore(load_settings(cfg).store_path) as store:
        return {a.pmid: a for a in store.iter_articles()}


@pytest.mark.slow
def test_cli_ris_export_of_everything_reads_back(index_config, tmp_path):
    out = tmp_path / "all.ris"
    proc = run_ketlit(["export", "--format", "ris", "-o", str(out)], index_config, check=True)
    assert "exported 95 record(s)" in proc.stderr
    recs = rispy.loads(out.read_text(encoding="utf-8"))
    stored = _stored(index_config)
    assert len(recs) == len(stored) == 95
    assert {r["accession_number"] for r in recs} == set(stored)
    for r in recs:
        a = stored[r["accession_number"]]
        title = a.book_title if a.is_book and a.title == a.book_title else (
            a.title or a.vernacular_title)
        assert r["title"] == title.removesuffix(".")


@pytest.mark.slow
def test_cli_query_export_matches_search(index_config):
    search = run_ketlit(["search", "zotero", "--json", "--limit", "100"], index_config,
                        check=True)
    expected = [r["pmid"] for r in json.loads(search.stdout)["results"]]
    assert expected
    proc = run_ketlit(["export", "zotero", "--format", "csl-json"], index_config, check=True)
    items = json.loads(proc.stdout)
    assert [i["id"] for i in items] == expected


@pytest.mark.slow
def test_cli_topic_only_export(index_config):
    proc = run_ketlit(["export", "--topic", "ptsd", "--format", "text"], index_config, check=True)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert "PMID: 20729678." in proc.stdout and "PMID: 20821847." in proc.stdout


@pytest.mark.slow
def test_cli_filter_only_export_is_the_query_less_search(index_config):
    # The searcher selects filter-only exports: same records, same order (newest first) as
    # `ketlit search` without a query; the publication type goes through the index's own
    # pubtype field rather than Python-side matching of Article fields.
    search = run_ketlit(["search", "--topic", "depression", "--type", "review", "--json",
                         "--limit", "100"], index_config, check=True)
    expected = [r["pmid"] for r in json.loads(search.stdout)["results"]]
    assert len(expected) > 1
    proc = run_ketlit(["export", "--topic", "depression", "--type", "review",
                       "--format", "csl-json"], index_config, check=True)
    assert [i["id"] for i in json.loads(proc.stdout)] == expected
    oldest = run_ketlit(["search", "--topic", "depression", "--type", "review", "--json",
                         "--limit", "100", "--sort", "oldest"], index_config, check=True)
    proc = run_ketlit(["export", "--topic", "depression", "--type", "review", "--sort", "oldest",
                       "--format", "csl-json"], index_config, check=True)
    assert [i["id"] for i in json.loads(proc.stdout)] == \
        [r["pmid"] for r in json.loads(oldest.stdout)["results"]] != expected


@pytest.mark.slow
def test_cli_pmids_file_keeps_order_and_applies_filters(index_config, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("20821847\n# the Zotero paper\n20729678\n", encoding="utf-8")
    proc = run_ketlit(["export", "--pmids", str(ids), "--format", "medline"], index_config,
                      check=True)
    assert [line[6:] for line in proc.stdout.splitlines() if line.startswith("PMID- ")] == \
        ["20821847", "20729678"]
    proc = run_ketlit(["export", "--pmids", str(ids), "--format", "medline", "--from", "2005"],
                      index_config, check=True)
    assert [line[6:] for line in proc.stdout.splitlines() if line.startswith("PMID- ")] == \
        ["20729678"]


@pytest.mark.slow
def test_cli_missing_pmids_are_named_and_nothing_is_written(index_config, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("20729678, 1, 2\n", encoding="utf-8")
    out = tmp_path / "out.bib"
    proc = run_ketlit(["export", "--pmids", str(ids), "--format", "bibtex", "-o", str(out)],
                      index_config)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1
    assert "PMIDs not in the index: 1, 2" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [ids]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), [
    (["zotero", "--pmids", "ids.txt"], "not both"),
    (["--topic", "ocd"], "no topic named 'ocd'"),
    (["--pmids", "/nonexistent/ids.txt"], "no such file"),
])
def test_cli_usage_errors(index_config, args, message):
    proc = run_ketlit(["export", *args, "--format", "ris"], index_config)
    assert proc.returncode != 0 and message in proc.stderr
    assert proc.stdout == ""


@pytest.mark.slow
def test_cli_stdout_is_utf8_whatever_the_locale(index_config):
    proc = run_ketlit(["export", "--format", "csv"], index_config, check=True,
                      env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": ""})
    assert proc.stdout.startswith("\ufeffPMID,")
    assert any(ord(c) > 127 for c in proc.stdout[1:])


@pytest.mark.slow
def test_cli_empty_data_dir_says_how_to_fill_it(tmp_path):
    cfg = write_config(tmp_path)
    proc = run_ketlit(["export", "--format", "ris"], cfg)
    assert proc.returncode != 0 and "ketlit harvest" in proc.stderr


# -- issue 13 point 4: inline markup kept where the format can hold it -----------------------------

_TAGS = re.compile(r"<(i|b|u|sub|sup)>")
_LATEX = {"i": r"\textit{", "b": r"\textbf{", "u": r"\underline{", "sub": r"\textsubscript{",
          "sup": r"\textsuperscript{"}


def _raw_marked_titles() -> dict[str, set[str]]:
    """{PMID: tags} for every ArticleTitle of the shared XML that PubMed marked up, read from the
    files with a regular expression (not with ketlit's parser)."""
    out: dict[str, set[str]] = {}
    for path in sorted(EFETCH_XML.rglob("*.xml")):
        raw = path.read_text(encoding="utf-8-sig")
        for rec in re.findall(r"<PubmedArticle>.*?</PubmedArticle>", raw, re.S):
            pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", rec).group(1)
            title = re.search(r"<ArticleTitle[^>]*>(.*?)</ArticleTitle>", rec, re.S)
            tags = set(_TAGS.findall(title.group(1))) if title else set()
            if tags:
                out[pmid] = tags
    return out


def _bib_entries(text: str) -> dict[str, str]:
    return {m.group(1): entry for entry in text.split("\n@")
            if (m := re.search(r"pmid = \{(\d+)\}", entry))}


def test_ingested_titles_keep_pubmeds_markup_as_csl_rich_text_and_latex(tmp_path_factory):
    """After `ketlit ingest` + `ketlit export`: every title PubMed marked up has the same tags
    in CSL-JSON (<u> has no CSL form) and the LaTeX commands in BibTeX; the titles without
    markup get none."""
    marked = _raw_marked_titles()
    assert len(marked) >= 5 and {"i", "sub"} <= set().union(*marked.values())
    out = ingested_exports(tmp_path_factory)
    csl = {str(item["PMID"]): item for item in json.loads(out["csl-json"])}
    bib = _bib_entries(out["bibtex"])
    for pmid, item in csl.items():
        tags = marked.get(pmid, set())
        assert set(_TAGS.findall(item["title"])) == tags - {"u"}, (pmid, item["title"])
        title = re.search(r"title = \{(.*)\},\n", bib[pmid]).group(1)
        assert {t for t, cmd in _LATEX.items() if cmd in title} == tags, (pmid, title)
    assert "<i>TERT</i>" in csl["27797938"]["title"]


def test_plain_text_formats_stay_plain_after_ingest(tmp_path_factory):
    out = ingested_exports(tmp_path_factory)
    for fmt in ("ris", "medline", "csv", "text"):
        text = out[fmt]
        assert not re.search(r"</?(i|b|u|sub|sup)>|mml:|<math|\\text[a-z]+\{", text), fmt
        assert "the TERT gene region" in text, fmt  # the words stay, the tags go


def test_mathml_becomes_readable_text_in_every_format():
    """PubMed's MathML (30108519's V-dot-O2max, moved into its title to test titles too) reads
    as "VO2max" everywhere, beside markup that each format keeps or drops."""
    raw = (EFETCH_XML / "biopython" / "Tests" / "Entrez" / "pubmed6.xml").read_text("utf-8")
    start = raw.index("<mml:math")
    math = raw[start:raw.index("</mml:math>", start) + len("</mml:math>")]
    record = raw[raw.rindex("<PubmedArticle>", 0, start):
                 raw.index("</PubmedArticle>", start) + len("</PubmedArticle>")]
    record = re.sub(r"<ArticleTitle>.*?</ArticleTitle>", lambda _: (
        f"<ArticleTitle>Maximal oxygen uptake ({math}) of <i>Homo sapiens</i> at "
        "10<sup>-3</sup> M.</ArticleTitle>"), record, flags=re.S)
    (art,) = parse_articles(f"<PubmedArticleSet>{record}</PubmedArticleSet>".encode())
    plain = "Maximal oxygen uptake (VO2max) of Homo sapiens at 10-3 M"
    csl = json.loads(export([art], "csl-json"))[0]
    assert csl["title"] == "Maximal oxygen uptake (VO2max) of <i>Homo sapiens</i> at 10<sup>-3</sup> M"
    assert "{(VO2max)} of \\textit{Homo sapiens} at 10\\textsuperscript{-3}" in export([art], "bibtex")
    for fmt in ("ris", "medline", "csv", "text"):
        text = export([art], fmt)
        assert plain in text and "mml" not in text and "<" not in text.replace("P < 0", ""), fmt
        if fmt != "text":  # (a reference list has no abstracts)
            assert "maximal oxygen uptake ( VO2max ) 67.6" in " ".join(text.split()), fmt


# -- streaming: an exporter holds nothing per record ----------------------------------------------

class _Discard(io.TextIOBase):
    """A text sink that keeps nothing (a StringIO would hold the whole export)."""

    def write(self, s: str) -> int:
        return len(s)


def _peak_mb(fmt: str, n: int) -> float:
    originals = list(all_cases())
    records = (dataclasses.replace(originals[i % len(originals)], pmid=str(40_000_000 + i))
               for i in range(n))
    tracemalloc.start()
    try:
        assert write_export(records, fmt, _Discard()) == n
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_every_format_streams_in_constant_memory(fmt):
    """Four times the records, the same peak: what an exporter may keep per record is BibTeX's
    set of used keys (~100 bytes); a list of 1,800 more (shallow) records adds ~3 MB."""
    small, large = _peak_mb(fmt, 600), _peak_mb(fmt, 2_400)
    assert large - small < 0.5, (fmt, small, large)
