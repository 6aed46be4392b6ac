"""Settings: config.yaml loaded once into an immutable object that is passed explicitly.

Every key is declared once with its type and default (settings_model.py), so a config file may
set only what it changes. Unknown keys and wrong types are errors that name the key
(``pubmed.batch_size: expected an integer, got 'many'``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from index.errors import ConfigError
from index.settings_model import (
    BACKENDS,
    DEFAULT_BASE_URL,
    RANKS,
    Alert,
    EmailSettings,
    IndexSettings,
    PubMedSettings,
    ScheduleSettings,
    SearchSettings,
    Settings,
    SolrSettings,
    Topic,
)

# The settings objects live in settings_model.py; callers import them from here.
__all__ = [
    "DEFAULT_BASE_URL",
    "PubMedSettings",
    "Topic",
    "Alert",
    "ScheduleSettings",
    "SolrSettings",
    "EmailSettings",
    "BACKENDS",
    "RANKS",
    "SearchSettings",
    "IndexSettings",
    "Settings",
    "load_settings",
    "resolve_config_path",
    "settings_from_mapping",
]


# -- loading ---------------------------------------------------------------------------------------

_PUBMED_TYPES: dict[str, tuple[type, ...]] = {
    "base_url": (str,),
    "email": (str, type(None)),
    "api_key": (str, type(None)),
    "tool": (str,),
    "batch_size": (int,),
    "max_results_per_query": (int,),
    "timeout_s": (int, float),
    "max_retries": (int,),
    "overlap_days": (int,),
    "backoff_base_s": (int, float),
    "backoff_max_s": (int, float),
    "requests_per_second": (int, float, type(None)),
}
_TOP_KEYS = {"data_dir", "pubmed", "topics", "schedule", "alerts", "index", "email", "search"}
_SOLR_TYPES: dict[str, tuple[type, ...]] = {
    "urls": (list, str), "collection": (str,), "shards": (int,), "replicas": (int,),
    "timeout_s": (int, float),
}
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _type_name(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types if not (t is float and int in types))


def _check(key: str, value: Any, types: tuple[type, ...]) -> Any:
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{key}: expected {_type_name(types)}, got {value!r}")
    if not isinstance(value, types):
        raise ConfigError(f"{key}: expected {_type_name(types)}, got {value!r}")
    return value


def _mapping(key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping of keys to values, got {value!r}")
    return value


def _unknown(section: str, data: Mapping[str, Any], allowed: set[str] | Mapping[str, Any]) -> None:
    for k in data:
        if k not in allowed:
            where = f"{section}.{k}" if section else str(k)
            raise ConfigError(
                f"{where}: unknown configuration key (allowed here: {', '.join(sorted(allowed))})"
            )


def settings_from_mapping(raw: Mapping[str, Any], base_dir: Path,
                          config_path: Path | None = None) -> Settings:
    """Validate a parsed config mapping. ``base_dir`` anchors a relative data_dir."""
    if not isinstance(raw, Mapping):
        raise ConfigError("config: the file must hold a mapping of keys (data_dir, pubmed, topics...)")
    _unknown("", raw, _TOP_KEYS)

    data_dir_raw = _check("data_dir", raw.get("data_dir", "./ketlit-data"), (str,))
    data_dir = Path(os.path.expanduser(data_dir_raw))
    if not data_dir.is_absolute():
        data_dir = (base_dir / data_dir).resolve()

    pm_raw = _mapping("pubmed", raw.get("pubmed"))
    _unknown("pubmed", pm_raw, _PUBMED_TYPES)
    pm: dict[str, Any] = {}
    for k, v in pm_raw.items():
        pm[k] = _check(f"pubmed.{k}", v, _PUBMED_TYPES[k])
    pubmed = PubMedSettings(**pm)
    for k in ("batch_size", "max_results_per_query", "max_retries"):
        if getattr(pubmed, k) < (0 if k == "max_retries" else 1):
            raise ConfigError(f"pubmed.{k}: must be positive, got {getattr(pubmed, k)}")
    if pubmed.batch_size > 10000:
        raise ConfigError("pubmed.batch_size: efetch takes at most 10000 ids per request")
    if pubmed.max_results_per_query > 9999:
        raise ConfigError("pubmed.max_results_per_query: PubMed's esearch cap is 9999")
    if pubmed.overlap_days < 0:
        raise ConfigError("pubmed.overlap_days: must be 0 or more")
    if pubmed.timeout_s <= 0:
        raise ConfigError("pubmed.timeout_s: must be more than 0")
    if pubmed.requests_per_second is not None and pubmed.requests_per_second <= 0:
        raise ConfigError("pubmed.requests_per_second: must be more than 0")
    if " " in pubmed.tool or not pubmed.tool:
        raise ConfigError("pubmed.tool: NCBI wants a tool name without spaces")
    if not pubmed.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"pubmed.base_url: expected an http(s) URL, got {pubmed.base_url!r}")
    env_email = os.environ.get("KETLIT_EMAIL")
    env_key = os.environ.get("NCBI_API_KEY")
    if env_email:
        pubmed = replace(pubmed, email=env_email)
    if env_key:
        pubmed = replace(pubmed, api_key=env_key)
    if not pubmed.base_url.endswith("/"):
        pubmed = replace(pubmed, base_url=pubmed.base_url + "/")

    topics: dict[str, Topic] = {}
    for name, t in _mapping("topics", raw.get("topics")).items():
        key = f"topics.{name}"
        if not isinstance(name, str) or not _TOPIC_NAME.match(name):
            raise ConfigError(f"{key}: a topic name is letters, digits, '-' and '_'")
        t = _mapping(key, t)
        _unknown(key, t, {"label", "query"})
        if "query" not in t:
            raise ConfigError(f"{key}.query: every topic needs a PubMed query")
        query = _check(f"{key}.query", t["query"], (str,)).strip()
        if not query:
            raise ConfigError(f"{key}.query: the query is empty")
        label = _check(f"{key}.label", t.get("label"), (str, type(None)))
        topics[name] = Topic(name=name, query=query, label=label)

    sched_raw = _mapping("schedule", raw.get("schedule"))
    _unknown("schedule", sched_raw, {"cron", "timezone", "misfire_grace_s", "reconcile_days"})
    sched = ScheduleSettings(
        cron=_check("schedule.cron", sched_raw.get("cron", ScheduleSettings.cron), (str,)),
        timezone=_check("schedule.timezone", sched_raw.get("timezone", "UTC"), (str,)),
        misfire_grace_s=_check("schedule.misfire_grace_s",
                               sched_raw.get("misfire_grace_s", 3600), (int,)),
        reconcile_days=_check("schedule.reconcile_days",
                              sched_raw.get("reconcile_days", ScheduleSettings.reconcile_days),
                              (int,)),
    )
    if sched.reconcile_days < 0:
        raise ConfigError("schedule.reconcile_days: a number of days, 0 to turn it off")
    _validate_schedule(sched)

    alerts: dict[str, Alert] = {}
    for name, a in _mapping("alerts", raw.get("alerts")).items():
        key = f"alerts.{name}"
        a = _mapping(key, a)
        _unknown(key, a, {"query", "topic"})
        if "query" not in a:
            raise ConfigError(f"{key}.query: every alert needs a query")
        topic = _check(f"{key}.topic", a.get("topic"), (str, type(None)))
        if topic is not None and topic not in topics:
            raise ConfigError(f"{key}.topic: no topic named {topic!r} (known: {', '.join(topics)})")
        alerts[str(name)] = Alert(name=str(name),
                                  query=_check(f"{key}.query", a["query"], (str,)), topic=topic)

    search_raw = _mapping("search", raw.get("search"))
    _unknown("search", search_raw, {"timeout_s", "rank"})
    timeout = _check("search.timeout_s", search_raw.get("timeout_s", SearchSettings.timeout_s),
                     (int, float))
    if timeout <= 0:
        raise ConfigError("search.timeout_s: must be a number of seconds above 0")
    rank = _check("search.rank", search_raw.get("rank", SearchSettings.rank), (str,))
    if rank not in RANKS:
        raise ConfigError(f"search.rank: expected one of {', '.join(RANKS)}, got {rank!r}")
    return Settings(data_dir=data_dir, config_path=config_path, pubmed=pubmed, topics=topics,
                    schedule=sched, alerts=alerts, index=_index_settings(raw.get("index")),
                    email=_email_settings(raw.get("email")),
                    search=SearchSettings(timeout_s=float(timeout), rank=rank))


_EMAIL_TYPES: dict[str, tuple[type, ...]] = {
    "smtp_host": (str, type(None)), "smtp_port": (int,), "from": (str, type(None)),
    "to": (list, str), "starttls": (bool,), "username": (str, type(None)),
    "password_env": (str, type(None)), "timeout_s": (int, float),
}


def _email_settings(raw: Any) -> EmailSettings:
    em = _mapping("email", raw)
    _unknown("email", em, _EMAIL_TYPES)
    values = {k: _check(f"email.{k}", v, _EMAIL_TYPES[k]) for k, v in em.items()}
    to = values.pop("to", ())
    to = (to,) if isinstance(to, str) else tuple(to)
    if not all(isinstance(a, str) and "@" in a for a in to):
        raise ConfigError("email.to: a list of e-mail addresses such as lab@example.org")
    values["sender"] = values.pop("from", None)
    email = EmailSettings(to=to, **values)
    if email.enabled:
        if not email.to:
            raise ConfigError("email.to: set at least one address to send the digests to "
                              "(or leave email.smtp_host unset)")
        if not email.sender or "@" not in email.sender:
            raise ConfigError("email.from: set the sender address, e.g. ketlit@lab.example.org")
    if not 0 < email.smtp_port < 65536:
        raise ConfigError(f"email.smtp_port: expected 1-65535, got {email.smtp_port}")
    if email.timeout_s <= 0:
        raise ConfigError("email.timeout_s: must be more than 0")
    return email


def _index_settings(raw: Any) -> IndexSettings:
    ix = _mapping("index", raw)
    _unknown("index", ix, {"backend", "solr", "embeddings"})
    embeddings = _check("index.embeddings", ix.get("embeddings", True), (bool,))
    backend = _check("index.backend", ix.get("backend", "whoosh"), (str,))
    if backend not in BACKENDS:
        raise ConfigError(f"index.backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    solr_raw = _mapping("index.solr", ix.get("solr"))
    _unknown("index.solr", solr_raw, _SOLR_TYPES)
    values: dict[str, Any] = {}
    for k, v in solr_raw.items():
        values[k] = _check(f"index.solr.{k}", v, _SOLR_TYPES[k])
    if "urls" in values:
        urls = [values["urls"]] if isinstance(values["urls"], str) else values["urls"]
        if not urls or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                               for u in urls):
            raise ConfigError("index.solr.urls: a list of Solr base URLs such as "
                              "http://127.0.0.1:8983/solr")
        values["urls"] = tuple(u.rstrip("/") for u in urls)
    solr = SolrSettings(**values)
    for k in ("shards", "replicas"):
        if getattr(solr, k) < 1:
            raise ConfigError(f"index.solr.{k}: must be 1 or more, got {getattr(solr, k)}")
    if solr.timeout_s <= 0:
        raise ConfigError("index.solr.timeout_s: must be more than 0")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", solr.collection):
        raise ConfigError(f"index.solr.collection: letters, digits, '.', '-' and '_', "
                          f"got {solr.collection!r}")
    return IndexSettings(backend=backend, solr=solr, embeddings=embeddings)


def _validate_schedule(sched: ScheduleSettings) -> None:
    # index.cron accepts 5 fields (crontab) or 6 with seconds first, and fixes APScheduler 3's
    # Monday=0 weekday numbering; the scheduler builds its trigger the same way.
    from index.cron import CronSyntaxError, build_trigger, cron_fields

    if sched.misfire_grace_s < 1:
        raise ConfigError("schedule.misfire_grace_s: must be at least 1 (seconds)")
    try:
        cron_fields(sched.cron)
    except CronSyntaxError as exc:
        raise ConfigError(f"schedule.cron: {sched.cron!r}: {exc}") from None
    try:
        build_trigger(sched.cron, "UTC")
    except ValueError as exc:
        raise ConfigError(f"schedule.cron: invalid cron {sched.cron!r} ({exc})") from None
    try:
        build_trigger(sched.cron, sched.timezone)
    except (ValueError, LookupError):
        # zoneinfo raises ZoneInfoNotFoundError (a KeyError) for unknown zones
        raise ConfigError(f"schedule.timezone: unknown time zone {sched.timezone!r} "
                          "(use an IANA name such as UTC or Europe/Berlin)") from None


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """--config, else $KETLIT_CONFIG, else ./config.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("KETLIT_CONFIG")
    if env:
        return Path(env)
    return Path("config.yaml")


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    p = resolve_config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config: {p} not found; pass --config PATH or set KETLIT_CONFIG") from None
    except OSError as exc:
        raise ConfigError(f"config: cannot read {p}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config: {p} is not UTF-8 text (byte {exc.start}): save it as "
                          "UTF-8 YAML") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config: {p} is not valid YAML{where}: {problem}") from None
    if raw is None:
        raw = {}
    return settings_from_mapping(raw, base_dir=p.resolve().parent, config_path=p.resolve())
