from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import ConfigError
from index.settings import PubMedSettings, load_settings, settings_from_mapping
from tests.helpers import REPO


def test_repository_config_loads_with_three_topics() -> None:
    s = load_settings(REPO / "config.yaml")
    assert set(s.topics) == {"depression", "ptsd", "ocd"}
    for topic in s.topics.values():
        q = topic.query
        assert '"Ketamine"[Mesh]' in q and "esketamine[tiab]" in q and "arketamine[tiab]" in q
    assert "treatment-resistant depression" in s.topics["depression"].query
    assert "Suicidal Ideation" in s.topics["depression"].query
    assert "Bipolar" in s.topics["depression"].query
    assert "posttraumatic stress" in s.topics["ptsd"].query
    assert "obsessive-compulsive" in s.topics["ocd"].query
    assert s.data_dir == (REPO / "ketlit-data").resolve()
    assert s.alerts["esketamine-trials"].topic == "depression"


def test_empty_config_gets_every_default(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("")
    s = load_settings(p)
    assert s.pubmed == PubMedSettings()
    assert s.topics == {} and s.alerts == {}
    assert s.schedule.cron == "30 2 * * *"
    assert s.data_dir == (tmp_path / "ketlit-data").resolve()
    assert s.rate == 3.0


def test_api_key_raises_rate_and_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCBI_API_KEY", "abc123")
    monkeypatch.setenv("KETLIT_EMAIL", "lab@example.org")
    s = settings_from_mapping({"pubmed": {"email": "x@y.z"}}, tmp_path)
    assert s.pubmed.api_key == "abc123" and s.pubmed.email == "lab@example.org"
    assert s.rate == 10.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"pubmed": {"batch_size": "many"}}, "pubmed.batch_size: expected an integer"),
        ({"pubmed": {"batchsize": 5}}, "pubmed.batchsize: unknown configuration key"),
        ({"colour": "blue"}, "colour: unknown configuration key"),
        ({"pubmed": {"max_results_per_query": 20000}}, "pubmed.max_results_per_query"),
        ({"pubmed": {"tool": "my tool"}}, "pubmed.tool"),
        ({"pubmed": {"timeout_s": True}}, "pubmed.timeout_s"),
        ({"topics": {"dep": {"label": "x"}}}, "topics.dep.query"),
        ({"topics": {"dep": "ketamine"}}, "topics.dep: expected a mapping"),
        ({"topics": {"dep": {"query": "k", "lable": "x"}}}, "topics.dep.lable"),
        ({"schedule": {"cron": "not a cron"}}, "schedule"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule"),
        ({"alerts": {"a": {"query": "x", "topic": "nope"}}}, "alerts.a.topic"),
        ({"data_dir": 5}, "data_dir: expected a string"),
        ([1, 2], "config: the file must hold a mapping"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        settings_from_mapping(raw, tmp_path)  # type: ignore[arg-type]
    assert message in str(exc.value)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("pubmed:\n  batch_size: [1,\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_settings(p)


def test_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--config PATH or set KETLIT_CONFIG"):
        load_settings(tmp_path / "nope.yaml")


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "env.yaml"
    p.write_text("data_dir: /tmp/ketlit-env-test\n")
    monkeypatch.setenv("KETLIT_CONFIG", str(p))
    assert load_settings(None).data_dir == Path("/tmp/ketlit-env-test")


def test_index_backend_and_solr_settings(tmp_path: Path) -> None:
    s = settings_from_mapping({}, tmp_path)
    assert s.index.backend == "whoosh" and s.index.solr.shards == 2
    s = settings_from_mapping({"index": {"backend": "solr", "solr": {
        "urls": ["http://a:8983/solr/", "http://b:8983/solr"], "collection": "lab",
        "shards": 4, "replicas": 2, "timeout_s": 5}}}, tmp_path)
    assert s.index.solr.urls == ("http://a:8983/solr", "http://b:8983/solr")
    assert (s.index.solr.collection, s.index.solr.shards, s.index.solr.timeout_s) == ("lab", 4, 5)
    for bad, key in (({"backend": "lucene"}, "index.backend"),
                     ({"solr": {"urls": ["a:8983"]}}, "index.solr.urls"),
                     ({"solr": {"shards": 0}}, "index.solr.shards"),
                     ({"solr": {"cores": 1}}, "cores")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            settings_from_mapping({"index": bad}, tmp_path)


def test_a_config_that_is_not_text_is_one_config_error(tmp_path) -> None:
    import pytest

    from index.errors import ConfigError
    from index.settings import load_settings

    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"config\.yaml is not UTF-8 text"):
        load_settings(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path)  # a directory
