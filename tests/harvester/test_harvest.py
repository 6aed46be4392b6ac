"""run_harvest against the loopback E-utilities server: windows, incremental + mdat, faults,
failures, --full reconciliation, topics, and the console script's exit codes."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harvester.harvest import run_harvest
from index.errors import ConfigError, UsageError
from index.settings import Settings, load_settings
from index.store import RecordStore
from tests.helpers import run_ketlit, write_config

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

# Two overlapping topics over the loopback server's real records (109 and 105 records, 40 in
# both): the union is 174, and a cap of 30 forces the create-date walk to split windows.
TOPICS = {"patients": "patients", "treatment": "treatment"}


def fast_pubmed(server: Any, **changes: Any) -> dict[str, Any]:
    """Test E-utilities settings: small batches, quick retries. The request rate is raised (our
    own loopback server) except in the politeness test, which keeps the default of 3/s. Tests of
    the date-window walk lower max_results_per_query to 30 to force splitting; the others keep
    the cap so that a harvest is a few large batches (each batch is one Whoosh commit)."""
    pm: dict[str, Any] = {"base_url": server.base_url, "email": "tests@example.org",
                          "batch_size": 50, "max_results_per_query": 9999, "timeout_s": 2,
                          "max_retries": 8, "backoff_base_s": 0.01, "backoff_max_s": 0.05,
                          "requests_per_second": 50}
    pm.update(changes)
    return {k: v for k, v in pm.items() if v is not None}


def make_settings(directory: Path, server: Any, topics: dict[str, str] | None = None,
                  **pubmed: Any) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    cfg = write_config(directory, pubmed=fast_pubmed(server, **pubmed),
                       topics={n: {"query": q} for n, q in (topics or TOPICS).items()})
    return load_settings(cfg)


def expected(server: Any, topics: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Ground truth: PMID -> the topics whose esearch finds it."""
    out: dict[str, set[str]] = {}
    for name, query in (topics or TOPICS).items():
        for pmid in server.db.pmids_matching(query):
            out.setdefault(pmid, set()).add(name)
    return out


def store_json(settings: Settings) -> dict[str, dict[str, Any]]:
    import json

    con = sqlite3.connect(str(settings.store_path))
    try:
        return {p: json.loads(j) for p, j in con.execute("SELECT pmid, json FROM articles")}
    finally:
        con.close()


def index_pmids(settings: Settings) -> list[str]:
    """Every document's PMID in the live index (a list, so duplicates would show)."""
    from index.whoosh.writer import open_index

    ix = open_index(settings)
    try:
        with ix.searcher() as s:
            return [d["pmid"] for d in s.all_stored_fields()]
    finally:
        ix.close()


def efetches(server: Any) -> list[Any]:
    return [r for r in server.requests if r.endpoint == "efetch.fcgi"]


def assert_matches_server(settings: Settings, server: Any,
                          topics: dict[str, str] | None = None) -> None:
    want = expected(server, topics)
    got = store_json(settings)
    assert set(got) == set(want)
    for pmid, topic_set in want.items():
        assert set(got[pmid]["topics"]) == topic_set, pmid
    pmids = index_pmids(settings)
    assert len(pmids) == len(set(pmids)) == len(want)  # no duplicates in the index
    assert set(pmids) == set(want)


def today() -> date:
    return datetime.now(UTC).date()


# -- first harvest, second harvest ----------------------------------------------------------------


def test_first_harvest_indexes_exactly_the_union_within_the_cap(tmp_path: Path,
                                                                 eutils_server: Any) -> None:
    settings = make_settings(tmp_path, eutils_server, max_results_per_query=30, batch_size=20)
    report = run_harvest(settings)
    assert report.ok, report.summary_lines()
    assert_matches_server(settings, eutils_server)
    cap = settings.pubmed.max_results_per_query
    for r in eutils_server.requests:
        start = int(r.params.get("retstart") or 0)
        assert start + int(r.params.get("retmax") or 0) <= cap, r.params
        if r.endpoint == "efetch.fcgi":
            assert r.n_ids <= settings.pubmed.batch_size
        assert r.params.get("tool") and r.params.get("email")
    windows = [r for r in eutils_server.requests
               if r.endpoint == "esearch.fcgi" and r.params.get("datetype") == "edat"]
    assert len(windows) > 5  # 109 records under a cap of 30 cannot be one window
    assert {t.topic: t.status for t in report.topics} == {"patients": "ok", "treatment": "ok"}
    with RecordStore(settings.store_path) as store:
        runs = store.last_runs()
        assert runs["patients"].status == "ok" and runs["patients"].new == 109
        assert runs["treatment"].windows >= 1 and runs["treatment"].requests > 0
        assert store.get_meta("last_harvest_started")
        assert store.checkpoint("patients")["last_date"] == today().isoformat()
        assert store.checkpoint("patients")["state"] is None
    assert not settings.lock_path.exists()


def index_content(settings: Settings) -> dict[tuple[str, bytes], list[tuple[Any, ...]]]:
    """Every term of every field with its postings as (PMID, weight, value): comparable between
    two indexes whatever their segments and document numbers."""
    from index.whoosh.writer import open_index

    ix = open_index(settings)
    try:
        with ix.reader() as r:
            pmid_of = {n: fields["pmid"] for n, fields in r.iter_docs()}
            out: dict[tuple[str, bytes], list[tuple[Any, ...]]] = {}
            for fieldname, term in r.all_terms():
                m = r.postings(fieldname, term)
                rows = []
                while m.is_active():
                    rows.append((pmid_of[m.id()], m.weight(), m.value()))
                    m.next()
                if rows:
                    out[(fieldname, term)] = sorted(rows)
            return out
    finally:
        ix.close()


def test_a_harvest_indexes_the_helpers_analyses_exactly_as_reindex_would(
        tmp_path: Path, eutils_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse helper analyses the text for the index; what the harvest indexes from it is
    term for term, posting for posting, what `ketlit reindex` makes from the stored records."""
    from harvester.parse_worker import ParseWorker
    from index.whoosh.writer import rebuild_index

    used = []
    analysis = ParseWorker.analysis

    def counting(self: ParseWorker, article: Any) -> Any:
        found = analysis(self, article)
        used.append(found is not None)
        return found

    monkeypatch.setattr(ParseWorker, "analysis", counting)
    settings = make_settings(tmp_path, eutils_server, batch_size=60)
    assert run_harvest(settings).ok
    assert sum(used) > 100  # most records came with the helper's analysis
    harvested = index_content(settings)
    rebuild_index(settings)
    assert index_content(settings) == harvested


def test_second_run_with_nothing_new_adds_nothing_and_fetches_nothing(
        tmp_path: Path, eutils_server: Any) -> None:
    settings = make_settings(tmp_path, eutils_server)
    assert run_harvest(settings).ok
    before = store_json(settings)
    with RecordStore(settings.store_path) as store:
        first_started = store.get_meta("last_harvest_started")
    eutils_server.reset_log()
    report = run_harvest(settings)
    assert report.ok
    assert efetches(eutils_server) == []
    assert all(t.new == 0 and t.updated == 0 for t in report.topics)
    assert store_json(settings) == before
    datetypes = {r.params.get("datetype") for r in eutils_server.requests}
    assert datetypes == {"edat", "mdat"}  # incremental: create-date and modification-date passes
    with RecordStore(settings.store_path) as store:
        assert store.get_meta("previous_harvest_started") == first_started


def test_incremental_picks_up_new_records_revisions_and_retractions(
        tmp_path: Path, eutils_server: Any) -> None:
    db = eutils_server.db
    settings = make_settings(tmp_path, eutils_server)
    assert run_harvest(settings).ok
    patients = db.pmids_matching("patients")
    only_treatment = sorted(set(db.pmids_matching("treatment")) - set(patients))
    # A new record created today, cloned from one matching both topics.
    both = sorted(set(patients) & set(db.pmids_matching("treatment")))
    db.add_clone(both[0], "99000001", crdt=today())
    # Revised yesterday: a new abstract. (A record that stops matching a topic keeps the topic
    # until a --full re-sync reconciles, so pick one whose topics the edit does not change.)
    revised = sorted(set(patients) - set(db.pmids_matching("treatment")))[3]
    yesterday = today() - timedelta(days=1)

    def new_abstract(xml: bytes) -> bytes:
        xml = re.sub(rb"<Abstract>.*?</Abstract>", b"", xml, flags=re.S)
        return xml.replace(b"</ArticleTitle>", b"</ArticleTitle><Abstract><AbstractText>"
                           b"A corrected abstract about patients: zorblax.</AbstractText></Abstract>", 1)

    db.revise(revised, yesterday, new_abstract)
    # Retracted: PubMed adds the publication type and a RetractionIn link to the notice.
    retracted = only_treatment[0]

    def retract(xml: bytes) -> bytes:
        xml = xml.replace(b"</PublicationTypeList>", b'<PublicationType UI="D016441">Retracted '
                          b"Publication</PublicationType></PublicationTypeList>", 1)
        link = (b'<CommentsCorrections RefType="RetractionIn"><RefSource>J Test. 2026</RefSource>'
                b'<PMID Version="1">99000002</PMID></CommentsCorrections>')
        if b"<CommentsCorrectionsList>" in xml:
            return xml.replace(b"<CommentsCorrectionsList>", b"<CommentsCorrectionsList>" + link, 1)
        return xml.replace(b"</MedlineCitation>", b"<CommentsCorrectionsList>" + link +
                           b"</CommentsCorrectionsList></MedlineCitation>", 1)

    db.revise(retracted, yesterday, retract)
    eutils_server.reset_log()
    report = run_harvest(settings)
    assert report.ok
    # Only what changed is fetched (by id, or through the history of the day's new records).
    by_id = {i for r in efetches(eutils_server) for i in r.params.get("id", "").split(",") if i}
    assert by_id <= {"99000001", revised, retracted}
    assert sum(r.n_ids for r in efetches(eutils_server)) == 3
    got = store_json(settings)
    assert set(got["99000001"]["topics"]) == {"patients", "treatment"}
    assert got[revised]["abstract"] == "A corrected abstract about patients: zorblax."
    assert got[retracted]["retracted"] is True
    assert got[retracted]["retraction_pmids"] == ["99000002"]
    assert_matches_server(settings, eutils_server)
    # ...and the index serves the revised document, not the old one.
    from search.searcher import SearchRequest, open_searcher

    with open_searcher(settings) as s:
        assert list(s.iter_matching_pmids(SearchRequest("zorblax[ab]"))) == [revised]
        assert retracted in set(s.iter_matching_pmids(SearchRequest("retracted[sb]")))
        assert retracted not in set(s.iter_matching_pmids(
            SearchRequest("", exclude_retracted=True)))
    eutils_server.reset_log()
    assert run_harvest(settings).ok
    assert efetches(eutils_server) == []


def test_since_overrides_the_window_start(tmp_path: Path, eutils_server: Any) -> None:
    settings = make_settings(tmp_path, eutils_server)
    assert run_harvest(settings).ok
    eutils_server.reset_log()
    assert run_harvest(settings, topics=["patients"], since=date(2018, 1, 1)).ok
    mins = {r.params.get("mindate") for r in eutils_server.requests
            if r.endpoint == "esearch.fcgi"}
    assert "2018/01/01" in mins
    assert {r.params.get("term") for r in eutils_server.requests} == {"patients"}


# -- faults and failures --------------------------------------------------------------------------


def test_twenty_percent_faults_give_exactly_the_fault_free_records_politely(
        tmp_path: Path, make_eutils_server: Any) -> None:
    clean_server = make_eutils_server()
    clean = make_settings(tmp_path / "clean", clean_server, batch_size=20)
    assert run_harvest(clean).ok
    faulty = make_eutils_server(fault_rate=0.2, seed=3)
    # The NCBI default of 3 requests/s is kept here: the server must never see more.
    settings = make_settings(tmp_path / "faulty", faulty, batch_size=20,
                             requests_per_second=None, max_retries=10, timeout_s=1)
    report = run_harvest(settings)
    assert report.ok, report.summary_lines()
    assert store_json(settings) == store_json(clean)
    assert sorted(index_pmids(settings)) == sorted(index_pmids(clean))
    assert sum(faulty.fault_counts.values()) >= 3  # faults really happened
    assert faulty.max_requests_in_any_second() <= 3


def test_server_down_is_one_clear_line_and_non_zero_exit(tmp_path: Path,
                                                         eutils_server: Any) -> None:
    pubmed = fast_pubmed(eutils_server, max_retries=1)
    eutils_server.stop()  # nobody listens at base_url any more
    cfg = write_config(tmp_path, pubmed=pubmed,
                       topics={n: {"query": q} for n, q in TOPICS.items()})
    proc = run_ketlit(["harvest"], cfg, timeout=60)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ketlit:")]
    assert len(lines) == 1 and "could not be reached" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    settings = load_settings(cfg)
    with RecordStore(settings.store_path) as store:
        assert store.count() == 0
        cp = store.checkpoint("patients")
        assert cp is None or (cp["last_date"] is None and cp["state"]["through"] is None)
        assert store.last_runs()["patients"].status == "failed"


def _break_topic_after(server: Any, term: str, mindate: str) -> dict[str, bool]:
    """Make every esearch of ``term`` for windows starting on/after ``mindate`` fail with a 5xx
    (as long as ``state['broken']``), leaving the other topic alone."""
    state = {"broken": True}
    original = server._respond

    def respond(h: Any, entry: Any, path: str, params: dict[str, str], ids: list[str]) -> None:
        if (state["broken"] and entry.endpoint == "esearch.fcgi"
                and params.get("term") == term and params.get("mindate", "") >= mindate):
            server._inject(h, entry, params, "http5xx", b"", "eSearchResult")
            return
        original(h, entry, path, params, ids)

    server._respond = respond
    return state


def test_retries_exhausted_fail_one_topic_keep_committed_batches_and_resume(
        tmp_path: Path, eutils_server: Any) -> None:
    state = _break_topic_after(eutils_server, "patients", "2015/01/01")
    settings = make_settings(tmp_path, eutils_server, max_retries=2, max_results_per_query=30)
    report = run_harvest(settings)
    assert not report.ok
    by_topic = {t.topic: t for t in report.topics}
    assert by_topic["patients"].status == "failed" and by_topic["treatment"].status == "ok"
    assert "patients: FAILED" in "\n".join(report.summary_lines())
    assert "after 3 attempts" in (by_topic["patients"].error or "")
    with RecordStore(settings.store_path) as store:
        committed = store.pmids("patients")
        cp = store.checkpoint("patients")
        assert store.last_runs()["patients"].status == "failed"
        assert store.last_runs()["patients"].error
    # Windows starting before 2015 all succeed, so the walk is checkpointed at least through
    # 2014, and exactly the records of the checkpointed windows are committed.
    through = cp["state"]["through"]
    assert through is not None and through >= "2014-12-31"
    done = {p for p in eutils_server.db.pmids_matching("patients")
            if eutils_server.db.entry(p).crdt.isoformat() <= through}
    assert committed == done
    state["broken"] = False
    eutils_server.reset_log()
    assert run_harvest(settings).ok
    # The resumed walk starts after the checkpoint: no window before it is searched again.
    edat = [r for r in eutils_server.requests if r.params.get("datetype") == "edat"
            and r.params.get("term") == "patients"]
    assert edat and all(r.params["mindate"] > through.replace("-", "/") for r in edat)
    assert_matches_server(settings, eutils_server)


def test_a_failing_topic_indexes_what_it_stored_before_failing(tmp_path: Path,
                                                                eutils_server: Any) -> None:
    """Records stored but held back for the next index commit (a short window end) are
    indexed when the topic fails, not left for the next run."""
    _break_topic_after(eutils_server, "patients", "2015/01/01")
    topics = {"patients": "patients"}
    settings = make_settings(tmp_path, eutils_server, topics, max_retries=1,
                             max_results_per_query=30, batch_size=50)
    report = run_harvest(settings)
    assert report.topics[0].status == "failed"
    with RecordStore(settings.store_path) as store:
        stored = store.pmids("patients")
        assert stored and store.pending_index() == []
    assert set(index_pmids(settings)) == stored


def test_a_single_day_over_the_cap_fails_naming_the_day_and_query(
        tmp_path: Path, eutils_server: Any) -> None:
    db = eutils_server.db
    src = db.pmids_matching("depression")[0]  # the one record with the word
    day = date(2020, 2, 2)
    for i in range(5):
        db.add_clone(src, str(98000000 + i), crdt=day)
    settings = make_settings(tmp_path, eutils_server, topics={"dep": "depression"},
                             max_results_per_query=4)
    report = run_harvest(settings)
    assert not report.ok
    err = report.topics[0].error or ""
    assert "2020-02-02" in err and "depression" in err and "max_results_per_query" in err


def test_unknown_topic_and_no_topics(tmp_path: Path, eutils_server: Any) -> None:
    settings = make_settings(tmp_path, eutils_server)
    with pytest.raises(UsageError, match="patients, treatment"):
        run_harvest(settings, topics=["nope"])
    (tmp_path / "bare").mkdir()
    bare = load_settings(write_config(tmp_path / "bare", pubmed=fast_pubmed(eutils_server)))
    with pytest.raises(ConfigError, match="add at least one"):
        run_harvest(bare)


# -- --full reconciliation ------------------------------------------------------------------------


def test_full_resync_reconciles_topics_and_keeps_ingested_records(
        tmp_path: Path, eutils_server: Any) -> None:
    from harvester.ingest import ingest_files

    db = eutils_server.db
    settings = make_settings(tmp_path, eutils_server)
    assert run_harvest(settings).ok
    patients = set(db.pmids_matching("patients"))
    treatment = set(db.pmids_matching("treatment"))
    only_p = sorted(patients - treatment)
    both = sorted(patients & treatment)
    gone, ingested, moved = only_p[0], only_p[1], both[0]
    # `ingested` was also added by ingest (its own XML), so --full must keep it.
    xml_file = tmp_path / "one.xml"
    xml_file.write_bytes(b"<PubmedArticleSet>" + db.record_xml(ingested) + b"</PubmedArticleSet>")
    ingest_files(settings, [xml_file])
    db.remove(gone)
    db.remove(ingested)

    def no_patients(xml: bytes) -> bytes:
        return re.sub(rb"(?i)patients", b"subjects", xml)

    db.revise(moved, today() - timedelta(days=1), no_patients)
    assert moved not in db.pmids_matching("patients")
    report = run_harvest(settings, full=True)
    assert report.ok
    got = store_json(settings)
    assert gone not in got  # no topic left and not ingested: deleted
    assert ingested in got and got[ingested]["topics"] == []  # ingested: kept, topic dropped
    assert got[moved]["topics"] == ["treatment"]  # no longer matched: loses the topic only
    assert "subjects" in (got[moved]["abstract"] or "") or "subjects" in (got[moved]["title"] or "")
    deleted = {t.topic: t.deleted for t in report.topics}
    assert deleted == {"patients": 1, "treatment": 0}
    with RecordStore(settings.store_path) as store:
        assert store.last_runs()["patients"].deleted == 1
        assert store.last_runs()["patients"].mode == "resync"
    pmids = index_pmids(settings)
    assert gone not in pmids and ingested in pmids and len(pmids) == len(set(pmids)) == len(got)


def test_a_periodic_reconciliation_drops_deleted_and_unmatched_records(
        tmp_path: Path, eutils_server: Any) -> None:
    """Without --full: every schedule.reconcile_days a harvest compares PubMed's id list of each
    topic (esearch, no efetch of known records), and the digest says what left."""
    from search.digest import collect_digest

    db = eutils_server.db
    settings = make_settings(tmp_path, eutils_server)
    assert run_harvest(settings).ok
    patients = set(db.pmids_matching("patients"))
    treatment = set(db.pmids_matching("treatment"))
    gone = sorted(patients - treatment)[0]
    moved = sorted(patients & treatment)[0]
    db.remove(gone)
    db.revise(moved, today() - timedelta(days=30),  # revised long ago: no incremental sees it
              lambda xml: re.sub(rb"(?i)patients", b"subjects", xml))
    assert moved not in db.pmids_matching("patients")
    # The next day's run is incremental: nothing of this is visible to it.
    report = run_harvest(settings)
    assert {t.mode for t in report.topics} == {"incremental"}
    assert gone in store_json(settings)
    # A week after the last complete walk (the date stamp moved back instead of the clock on).
    with RecordStore(settings.store_path) as store:
        for topic in ("patients", "treatment"):
            store.set_meta("last_reconciled:" + topic,
                           (today() - timedelta(days=7)).isoformat())
        started = store.now()
    eutils_server.reset_log()
    report = run_harvest(settings)
    assert report.ok and {t.mode for t in report.topics} == {"reconcile"}
    got = store_json(settings)
    assert gone not in got
    assert got[moved]["topics"] == ["treatment"]
    assert gone not in index_pmids(settings)
    assert efetches(eutils_server) == []  # esearch only: no record was fetched again
    digest = collect_digest(settings, started)
    assert set(digest.left["patients"]) == {gone, moved} and digest.left["treatment"] == []
    # ... and the next run is incremental again.
    assert {t.mode for t in run_harvest(settings).topics} == {"incremental"}


# -- console script -------------------------------------------------------------------------------


def test_cli_harvest_prints_a_summary_and_exits_zero(tmp_path: Path, eutils_server: Any) -> None:
    cfg = write_config(tmp_path, pubmed=fast_pubmed(eutils_server),
                       topics={n: {"query": q} for n, q in TOPICS.items()})
    proc = run_ketlit(["harvest", "--topic", "treatment"], cfg, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "treatment: 105 new" in proc.stdout
    proc = run_ketlit(["harvest", "--topic", "nope"], cfg)
    assert proc.returncode == 2 and "known: patients, treatment" in proc.stderr


def test_an_index_of_an_older_schema_stops_the_harvest_before_any_request(
        tmp_path: Path, eutils_server: Any) -> None:
    """After an upgrade that changes the schema, the harvest says `ketlit reindex` in one line
    (exit 3) without fetching; after reindex it harvests again."""
    from index.whoosh.writer import VERSION_FILE, live_index_dir

    topics = {"treatment": "treatment"}
    cfg = write_config(tmp_path, pubmed=fast_pubmed(eutils_server),
                       topics={n: {"query": q} for n, q in topics.items()})
    assert run_ketlit(["harvest"], cfg, timeout=120).returncode == 0
    settings = load_settings(cfg)
    directory = live_index_dir(settings)
    assert directory is not None
    (directory / VERSION_FILE).write_text("4\n", encoding="ascii")  # as an older ketlit left it
    eutils_server.reset_log()
    proc = run_ketlit(["harvest", "--since", str(today() - timedelta(days=3))], cfg)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ketlit reindex" in lines[0] and "Traceback" not in proc.stderr
    assert eutils_server.requests == []
    assert run_ketlit(["reindex"], cfg, timeout=120).returncode == 0
    assert run_ketlit(["harvest"], cfg, timeout=120).returncode == 0
    assert_matches_server(settings, eutils_server, topics)


def test_ids_pubmed_no_longer_returns_are_reported_not_retried_forever(
        tmp_path: Path, eutils_server: Any) -> None:
    db = eutils_server.db
    ghost = db.pmids_matching("mice")[0]
    real = db.record_xml
    db.record_xml = lambda pmid: None if pmid == ghost else real(pmid)  # esearch lists it only
    settings = make_settings(tmp_path, eutils_server, topics={"mice": "mice"})
    report = run_harvest(settings)
    assert report.ok
    assert report.topics[0].missing == [ghost]
    assert any(ghost in line and "no longer returns" in line for line in report.summary_lines())
    got = store_json(settings)
    assert ghost not in got and set(got) == set(db.pmids_matching("mice")) - {ghost}
    with RecordStore(settings.store_path) as store:
        assert store.last_runs()["mice"].missing == [ghost]


def test_full_upgrades_an_unfinished_first_walk_to_a_resync(tmp_path: Path,
                                                            eutils_server: Any) -> None:
    state = _break_topic_after(eutils_server, "mice", "2015/01/01")
    settings = make_settings(tmp_path, eutils_server, topics={"mice": "mice"}, max_retries=1,
                             max_results_per_query=30)
    assert run_harvest(settings).topics[0].status == "failed"
    with RecordStore(settings.store_path) as store:
        assert store.checkpoint("mice")["state"]["mode"] == "full"  # a first walk is pending
    state["broken"] = False
    report = run_harvest(settings, full=True)
    assert report.ok and report.topics[0].mode == "resync"
    assert set(store_json(settings)) == set(eutils_server.db.pmids_matching("mice"))
    with RecordStore(settings.store_path) as store:
        assert store.checkpoint("mice")["state"] is None
