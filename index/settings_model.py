"""The settings objects: every config key declared once, with its type and default, as frozen
dataclasses passed explicitly to whatever needs them. index/settings.py reads config.yaml into
them (and re-exports them: callers import from there)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


@dataclass(frozen=True)
class PubMedSettings:
    base_url: str = DEFAULT_BASE_URL
    email: str | None = None
    api_key: str | None = None
    tool: str = "ketlit"
    # 500 ids keeps one efetch answer around 5-10 MB: large enough that request overhead does not
    # dominate, small enough that a failed batch is cheap to ask again.
    batch_size: int = 500
    # PubMed's esearch returns at most the first 9,999 records of a query.
    max_results_per_query: int = 9999
    timeout_s: float = 60.0
    max_retries: int = 6
    overlap_days: int = 3
    # Exponential backoff: base * 2**attempt seconds plus jitter, capped at backoff_max_s.
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    # None: 3 requests/s without an API key, 10/s with one (NCBI's published limits, kept with a
    # margin by the limiter).
    requests_per_second: float | None = None


@dataclass(frozen=True)
class Topic:
    name: str
    query: str
    label: str | None = None


@dataclass(frozen=True)
class Alert:
    name: str
    query: str
    topic: str | None = None


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = "30 2 * * *"
    timezone: str = "UTC"
    misfire_grace_s: int = 3600
    # Every this many days a harvest also compares PubMed's id list of each topic with the
    # store (esearch only): records PubMed deleted or that no longer match leave the topic.
    # 0 turns it off (``harvest --full`` still does it).
    reconcile_days: int = 7


@dataclass(frozen=True)
class SolrSettings:
    """``index.solr``: where ketlit's SolrCloud collection lives (used when index.backend is solr)."""

    urls: tuple[str, ...] = ("http://127.0.0.1:8983/solr",)  # tried in turn (failover)
    collection: str = "ketlit"
    shards: int = 2  # used when ketlit creates the collection
    replicas: int = 2
    timeout_s: float = 30


@dataclass(frozen=True)
class EmailSettings:
    """``email``: send each digest through this SMTP server too (off while smtp_host is unset).
    The password is never in the config: ``password_env`` names the environment variable
    holding it."""

    smtp_host: str | None = None
    smtp_port: int = 587
    sender: str | None = None  # the config key is ``from``
    to: tuple[str, ...] = ()
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    timeout_s: float = 30

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host)


BACKENDS = ("whoosh", "solr")
RANKS = ("lexical", "hybrid")


@dataclass(frozen=True)
class SearchSettings:
    """``search``: limits that keep one search from costing everyone (web server, CLI)."""

    timeout_s: float = 10.0  # a search still running after this stops with a clear message
    # The ranking a search uses when it does not ask for one: "lexical" (BM25, always there) or
    # "hybrid" (BM25 fused with sentence-embedding cosines; needs the semantic extra).
    rank: str = "lexical"


@dataclass(frozen=True)
class IndexSettings:
    backend: str = "whoosh"  # "whoosh" (embedded, the default) or "solr" (past one machine)
    solr: SolrSettings = field(default_factory=SolrSettings)
    # Sentence embeddings of every record beside the index (index/embeddings), made by harvest,
    # ingest and reindex when the semantic extra is installed; false turns them off.
    embeddings: bool = True


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_path: Path | None = None
    pubmed: PubMedSettings = field(default_factory=PubMedSettings)
    topics: Mapping[str, Topic] = field(default_factory=dict)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    alerts: Mapping[str, Alert] = field(default_factory=dict)
    index: IndexSettings = field(default_factory=IndexSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    search: SearchSettings = field(default_factory=SearchSettings)

    # Where each part of the state lives under data_dir.
    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def embeddings_dir(self) -> Path:
        # Beside the index, not in it: a reindex swaps the index directory, and the vectors
        # (slow to make) must survive it.
        return self.data_dir / "embeddings"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "records.sqlite3"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def digests_dir(self) -> Path:
        return self.data_dir / "digests"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "harvest.lock"

    @property
    def rate(self) -> float:
        if self.pubmed.requests_per_second is not None:
            return self.pubmed.requests_per_second
        return 10.0 if self.pubmed.api_key else 3.0

    def with_pubmed(self, **changes: Any) -> Settings:
        return replace(self, pubmed=replace(self.pubmed, **changes))
