"""index.solr: documents carry ketlit's analysis; a write Solr did not acknowledge marks nothing
indexed (the query's translation: test_translate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import IndexUnavailableError
from index.settings import settings_from_mapping
from index.solr.documents import article_to_solr, encode_tokens
from index.store import RecordStore
from index.whoosh.writer import sync_pending


def test_tokens_keep_their_positions() -> None:
    # The joined form of "IL-6" sits at its last part's position (increment 0); gaps survive.
    assert encode_tokens(["il", "6", "il6", "p<=0.05"], [0, 1, 1, 1005]) == \
        "1 il 6 il6,i=0 p<\\=0.05,i=1004"


def test_article_document_has_the_text_parts_apart(sample_articles: list) -> None:
    art = next(a for a in sample_articles if a.abstract and a.title)
    doc = article_to_solr(art)
    assert doc["pmid"] == art.pmid
    assert doc["text"].startswith("1 ")
    assert ",i=10" in doc["text"]  # TEXT_PART_GAP between title and abstract
    assert doc["hasabs"] is True


def test_unacknowledged_write_marks_nothing_indexed(tmp_path: Path, sample_articles: list) -> None:
    url = "http://127.0.0.1:9/solr"
    settings = settings_from_mapping(
        {"data_dir": str(tmp_path), "index": {"backend": "solr",
                                              "solr": {"urls": [url], "timeout_s": 2}}}, tmp_path)
    store = RecordStore(settings.store_path)
    try:
        store.upsert(sample_articles[:5])
        before = sorted(store.pending_index())
        assert len(before) == 5
        with pytest.raises(IndexUnavailableError) as exc:
            sync_pending(settings, store)
        assert url in str(exc.value) and "index.solr.urls" in str(exc.value)
        assert sorted(store.pending_index()) == before
    finally:
        store.close()


def test_timeout_is_one_line_naming_the_url(tmp_path: Path) -> None:
    import socket

    from index.solr.client import SolrClient

    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/solr"
        client = SolrClient([url], timeout_s=0.5)
        with pytest.raises(IndexUnavailableError) as exc:
            client.request("GET", "admin/collections", params={"action": "LIST"})
    msg = str(exc.value)
    assert "\n" not in msg and url in msg and "no answer within 0.5s" in msg


@pytest.mark.slow
def test_collection_of_another_schema_version_asks_for_reindex(
        tmp_path: Path, sample_articles: list, solr_cluster: dict,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from index.errors import IndexMissingError
    from index.solr import collection as coll
    from index.solr.backend import SolrIndex
    from index.whoosh.writer import check_index, check_index_writable, rebuild_index

    name = f"old_{uuid.uuid4().hex[:8]}"
    settings = settings_from_mapping(
        {"data_dir": str(tmp_path), "index": {"backend": "solr", "solr": {
            "urls": solr_cluster["solr_urls"], "collection": name, "shards": 2,
            "replicas": 2}}}, tmp_path)
    store = RecordStore(settings.store_path)
    store.upsert(sample_articles[:20])
    store.close()
    with monkeypatch.context() as m:  # a collection made by an older ketlit
        m.setattr(coll, "SOLR_SCHEMA_NAME", "ketlit-0.0")
        m.setattr(coll, "CONFIGSET_NAME", "ketlit-0.0")
        rebuild_index(settings)
    try:
        for check in (check_index, check_index_writable):
            with pytest.raises(IndexMissingError, match="run `ketlit reindex`"):
                check(settings)
        assert rebuild_index(settings) == 20
        check_index(settings)
        with SolrIndex(settings) as index:
            assert index.count() == 20
    finally:
        with SolrIndex(settings) as index:
            coll.delete_collection(index.client, settings.index.solr)


def test_client_fails_over_to_the_next_url_and_remembers_it() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from index.solr.client import SolrClient

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"responseHeader": {"status": 0}, "path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dead = "http://127.0.0.1:9/solr"
        alive = f"http://127.0.0.1:{server.server_address[1]}/solr"
        client = SolrClient([dead, alive], timeout_s=2)
        assert client.request("GET", "c/select")["path"] == "/solr/c/select"
        assert client.urls[client._first] == alive  # asked first from now on
    finally:
        server.shutdown()
        server.server_close()


def test_article_document_carries_evidence_annotations() -> None:
    from index.article import Article
    from tests.search.evidence_records import ann

    art = Article(pmid="1", title="t", annotations=ann(["rct"], ["oral"], ["ketamine"],
                                                        ["depression"], 48, ["phase-4"]))
    doc = article_to_solr(art)
    assert doc["design_facet"] == ["rct"] and doc["participants_facet"] == ["20-49"]
    assert doc["participants"] == 48 and "phase:phase-4" in doc["keys"]
