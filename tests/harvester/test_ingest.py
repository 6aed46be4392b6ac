"""ketlit ingest: PubMed XML (.xml, .xml.gz), DeleteCitation lists, MEDLINE .nbib, bad files."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from harvester.ingest import ingest_files
from harvester.medline import iter_medline
from harvester.parse import iter_pubmed
from index.article import Article
from index.errors import InputFileError, UsageError
from index.settings import Settings, load_settings
from index.store import RecordStore
from tests.harvester.test_harvest import index_pmids, store_json
from tests.helpers import EFETCH_XML, PUBMED_DATA, run_ketlit, write_config

XML = EFETCH_XML / "pubMR" / "pubmed_result.xml"  # 93 records
XML_B = EFETCH_XML / "PubmedXMLtoBibtex" / "pubmed_result.xml"  # 32 records
NBIB = PUBMED_DATA / "medline-nbib" / "biopython" / "Tests" / "Medline" / "pubmed_result2.txt"


def _pmids(path: Path) -> set[str]:
    return {r.pmid for r in iter_pubmed(path) if isinstance(r, Article)}


def _config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_config(directory, topics={"depression": {"query": "ketamine AND depression"},
                                           "ptsd": {"query": "ketamine AND ptsd"}})


def _settings(directory: Path) -> Settings:
    return load_settings(_config(directory))


@pytest.mark.slow
def test_ingest_xml_with_topic_through_the_cli(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    proc = run_ketlit(["ingest", str(XML), "--topic", "ptsd"], cfg)
    assert proc.returncode == 0, proc.stderr
    want = _pmids(XML)
    assert f"ingested {len(want)} record(s) from 1 file(s) tagged ptsd: {len(want)} new" in proc.stdout
    settings = load_settings(cfg)
    got = store_json(settings)
    assert set(got) == want
    assert all(rec["topics"] == ["ptsd"] for rec in got.values())
    with RecordStore(settings.store_path) as store:
        assert store.origin(next(iter(want))) == (False, True)  # ingested, not harvested
        assert store.pending_index() == []
    pmids = index_pmids(settings)
    assert sorted(pmids) == sorted(want)
    # Ingesting the same file again changes nothing and duplicates nothing.
    again = run_ketlit(["ingest", str(XML), "--topic", "ptsd"], cfg)
    assert again.returncode == 0 and f"{len(want)} unchanged" in again.stdout
    assert sorted(index_pmids(settings)) == sorted(want)


def test_ingest_gz_gives_the_same_records_as_plain_xml(tmp_path: Path) -> None:
    gz = tmp_path / "baseline.xml.gz"
    with open(XML, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain, packed = _settings(tmp_path / "plain"), _settings(tmp_path / "packed")
    ingest_files(plain, [XML])
    report = ingest_files(packed, [gz])
    assert report.new == len(_pmids(XML))
    assert store_json(packed) == store_json(plain)


def test_delete_citation_removes_records_from_store_and_index(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ingest_files(settings, [XML, XML_B])
    doomed = sorted(_pmids(XML))[:3]
    update = tmp_path / "pubmed26n1500.xml"
    kept_record = (XML_B.read_bytes().split(b"<PubmedArticle>")[1]
                   .split(b"</PubmedArticle>")[0])
    update.write_bytes(b'<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle>' + kept_record
                       + b"</PubmedArticle><DeleteCitation>"
                       + b"".join(b'<PMID Version="1">' + p.encode() + b"</PMID>" for p in doomed)
                       + b"</DeleteCitation></PubmedArticleSet>\n")
    report = ingest_files(settings, [update])
    assert report.deleted == 3 and report.records == 1
    assert "3 deleted" in report.summary_lines()[-1]
    remaining = (_pmids(XML) | _pmids(XML_B)) - set(doomed)
    assert set(store_json(settings)) == remaining
    assert sorted(index_pmids(settings)) == sorted(remaining)


def test_ingest_nbib(tmp_path: Path) -> None:
    nbib = tmp_path / "citations.nbib"
    shutil.copyfile(NBIB, nbib)
    settings = _settings(tmp_path / "d")
    report = ingest_files(settings, [nbib], topics=["depression"])
    want = {a.pmid for a in iter_medline(NBIB)}
    assert report.new == len(want) > 0
    got = store_json(settings)
    assert set(got) == want and all(r["topics"] == ["depression"] for r in got.values())
    assert sorted(index_pmids(settings)) == sorted(want)


@pytest.mark.slow
def test_corrupt_file_names_file_and_line_and_keeps_what_was_committed(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    data = XML_B.read_bytes()
    corrupt = tmp_path / "broken.xml"
    corrupt.write_bytes(data[: len(data) * 2 // 3])  # cut mid-record, as a failed download
    proc = run_ketlit(["ingest", str(XML), str(corrupt)], cfg)
    assert proc.returncode == 2
    assert str(corrupt) in proc.stderr and "line" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    settings = load_settings(cfg)
    got = set(store_json(settings))
    assert _pmids(XML) <= got  # the good file before it is committed
    # Inside one file, batches committed before the fault are kept as well.
    settings2 = _settings(tmp_path / "batches")
    with pytest.raises(InputFileError, match="broken.xml"):
        ingest_files(settings2, [corrupt], batch=5)
    kept = set(store_json(settings2))
    assert len(kept) >= 5 and kept < _pmids(XML_B)
    assert sorted(index_pmids(settings2)) == sorted(kept)


def test_missing_file_unknown_type_and_unknown_topic(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(InputFileError, match="nope.xml: no such file"):
        ingest_files(settings, [tmp_path / "nope.xml"])
    odd = tmp_path / "records.pdf"
    odd.write_bytes(b"%PDF")
    with pytest.raises(UsageError, match="unknown file type"):
        ingest_files(settings, [odd])
    with pytest.raises(UsageError, match="known: depression, ptsd"):
        ingest_files(settings, [XML], topics=["ocd"])
    assert not settings.store_path.exists() or store_json(settings) == {}


def test_an_older_file_ingested_later_keeps_the_newer_records(tmp_path: Path) -> None:
    old = EFETCH_XML / "biopython-2008" / "Tests" / "Entrez" / "pubmed1.xml"
    new = EFETCH_XML / "biopython" / "Tests" / "Entrez" / "pubmed1.xml"
    newer = {r.pmid: r for r in iter_pubmed(new) if isinstance(r, Article)}
    shared = set(newer) & _pmids(old)
    assert "9997" in shared
    settings = _settings(tmp_path)
    ingest_files(settings, [new])
    ingest_files(settings, [old])
    with RecordStore(settings.store_path) as store:
        for pmid in shared:
            kept = store.get(pmid)
            assert kept.revised_date == newer[pmid].revised_date
            assert kept.title == newer[pmid].title
    # The index holds the kept version too (found by a word of its own text).
    assert shared <= set(index_pmids(settings))
