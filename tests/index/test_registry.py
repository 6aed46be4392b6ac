"""The registries of formats, field tags and facets, and that every reader agrees with them."""

from __future__ import annotations

from click import Choice
from fastapi.testclient import TestClient

from index.registry import FACETS, FIELD_TAGS, facet, facet_keys, facet_labels, tag_spellings


def test_registry_entries_unique() -> None:
    assert len(facet_keys()) == len(set(facet_keys()))
    spellings = [s for t in FIELD_TAGS for s in t.spellings]
    assert len(spellings) == len(set(spellings)), "a tag spelling is listed twice"
    assert facet("year").label == facet_labels()["year"]


def test_evidence_facets_and_tags_are_read_from_index_evidence() -> None:
    # One source of truth: the evidence facets' keys, titles and filters come from
    # index/evidence.py, in its order, after the bibliographic groups.
    from index.evidence import (
        EVIDENCE_FACET_NAMES,
        EVIDENCE_FILTER_KEYS,
        FACETS_BY_NAME,
        LABEL_FACETS,
    )

    assert facet_keys() == ("topic", "year", "publication_type", "retracted",
                            *EVIDENCE_FACET_NAMES)
    for name in EVIDENCE_FACET_NAMES:
        assert facet(name).label == FACETS_BY_NAME[name].title
    assert tuple(f.request_field for f in FACETS[4:]) == EVIDENCE_FILTER_KEYS
    assert facet("participants").option == "--min-participants"
    assert {t.tag for t in FIELD_TAGS} >= set(LABEL_FACETS)


def test_searcher_facet_keys_are_the_registry() -> None:
    from search.searcher import FACET_KEYS

    assert tuple(FACET_KEYS) == facet_keys()


def test_query_language_knows_exactly_the_registry_tags() -> None:
    from search.query import TAGS

    assert set(TAGS) == tag_spellings()


def test_search_json_has_the_registry_facets() -> None:
    from search.searcher import SearchResponse

    out = SearchResponse(query="x", total=0, page=1, per_page=20).to_json()
    assert tuple(out["facets"]) == facet_keys()


def test_cli_reads_the_registries() -> None:
    from search.cli import cli
    from search.export import format_names

    fmt = next(p for p in cli.commands["export"].params if p.name == "fmt")
    assert isinstance(fmt.type, Choice) and tuple(fmt.type.choices) == format_names()
    search_opts = {o for p in cli.commands["search"].params for o in p.opts}
    export_opts = {o for p in cli.commands["export"].params for o in p.opts}
    for f in FACETS:
        if f.option:
            assert f.option in search_opts and f.option in export_opts, f.option


def test_cli_text_labels_facets_as_the_registry() -> None:
    from search.render import render_search_text
    from search.searcher import SearchResponse

    resp = SearchResponse(query="x", total=3, page=1, per_page=20, facets={
        "topic": {"depression": 3}, "year": {"2020": 3}, "publication_type": {"Review": 1},
        "retracted": {"true": 1, "false": 2}, "design": {"rct": 2}, "route": {"oral": 1},
        "drug": {"esketamine": 3}, "condition": {"ptsd": 1}, "phase": {"phase-3": 1},
        "participants": {"100-499": 2}})
    text = render_search_text(resp)
    for f in FACETS:
        assert f"  {f.label}: " in text


def test_api_and_page_read_the_registries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from index.settings import load_settings
    from search.export import format_labels, format_names
    from search.web.app import create_app
    from tests.helpers import write_config

    settings = load_settings(write_config(tmp_path))
    client = TestClient(create_app(settings))
    spec = client.get("/openapi.json").json()
    export = spec["paths"]["/api/export"]["get"]["parameters"]
    fmt = next(p for p in export if p["name"] == "format")
    assert tuple(fmt["schema"]["enum"]) == format_names()
    facets = spec["components"]["schemas"]["Facets"]["properties"]
    assert tuple(facets) == facet_keys()
    assert {k: v["title"] for k, v in facets.items()} == facet_labels()
    q = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert all(f"[{t.tag}]" in q["description"] for t in FIELD_TAGS)
    from search.web.pages import _templates

    env = _templates().env
    assert env.globals["export_labels"] == format_labels()
    assert env.globals["facet_labels"] == facet_labels()
    page = client.get("/").text
    for t in FIELD_TAGS:
        assert f"[{t.tag}]</code>" in page
