"""What arrived: a dated Markdown digest of the records new since a harvest started.

After each harvest (``ketlit harvest`` and every scheduled run) the CLI calls ``write_digest``.
It lists, per configured topic, the records that entered the index during the run (title,
authors, journal, year, a PubMed link), and for each saved search in ``alerts`` its own new
matches, as PubMed's saved-search e-mails do. Each list opens with what is new by design, from
the evidence annotations ("By design: 2 new RCTs of esketamine; ...").

"New" means: first seen by the record store at or after ``since`` (the run's start, taken from the
store's ``last_harvest_started`` when not given). A record revised by PubMed is not new; a record
that was already in the index for one topic and now also matches another is not listed again.

The file is ``data_dir/digests/YYYY-MM-DD.md``, dated in the schedule's time zone (the lab's
"night"). A second run on the same day writes ``YYYY-MM-DD-2.md`` and so on: one file per run
keeps each file an exact answer to "what did that run bring", which appending would blur.
A run that brought nothing writes no file (the log says so).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from index.article import Article
from index.errors import KetlitError
from index.settings import Alert, Settings
from index.store import RecordStore

log = logging.getLogger("ketlit.digest")

PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
MAX_AUTHORS = 6
# A section with more new records than LIST_ALL_MAX (a first harvest brings thousands) is
# summarised: its counts per year and its newest LIST_NEWEST records, not a list nobody reads.
LIST_ALL_MAX = 50
LIST_NEWEST = 20


@dataclass
class AlertResult:
    alert: Alert
    articles: list[Article] = field(default_factory=list)
    error: str | None = None


@dataclass
class Digest:
    since: datetime
    topics: dict[str, list[Article]]
    alerts: list[AlertResult]
    first: bool = False  # everything in the store arrived in this run: a first harvest
    # PMIDs that left each topic (deleted by PubMed, or no longer matching its query)
    left: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return (not any(self.topics.values()) and not any(a.articles for a in self.alerts)
                and not any(self.left.values()))


def _since_dt(since: datetime | str) -> datetime:
    t = datetime.fromisoformat(since) if isinstance(since, str) else since
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _iso(t: datetime) -> str:
    # The store writes first_seen as UTC ISO with seconds (index.store.utcnow); compare alike.
    return t.astimezone(UTC).isoformat(timespec="seconds")


def last_harvest_start(settings: Settings) -> datetime | None:
    if not settings.store_path.exists():
        return None
    with RecordStore(settings.store_path, readonly=True) as store:
        value = store.get_meta("last_harvest_started")
    return _since_dt(value) if value else None


def collect_digest(settings: Settings, since: datetime | str) -> Digest:
    """The records new since ``since``, per topic and per saved search."""
    since_dt = _since_dt(since)
    with RecordStore(settings.store_path, readonly=True) as store:
        new_ids = store.new_since(_iso(since_dt))
        # Per topic: new to that topic, which includes records the store already had for
        # another topic. new_since orders newest first, as the digest lists them.
        topic_ids = {name: store.new_since(_iso(since_dt), topic=name) for name in settings.topics}
        articles = store.get_many(set(new_ids).union(*topic_ids.values()))
        first = bool(new_ids) and len(new_ids) == store.count()
        left = {name: store.left_since(_iso(since_dt), name) for name in settings.topics}
    ordered = [articles[p] for p in new_ids if p in articles]
    topics = {name: [articles[p] for p in ids if p in articles] for name, ids in topic_ids.items()}
    alerts = [_alert_matches(settings, alert, ordered) for alert in settings.alerts.values()]
    return Digest(since=since_dt, topics=topics, alerts=alerts, first=first, left=left)


def _alert_matches(settings: Settings, alert: Alert, new: list[Article]) -> AlertResult:
    result = AlertResult(alert=alert)
    if not new:
        return result
    from search.searcher import SearchRequest, open_searcher

    new_ids = {a.pmid for a in new}
    req = SearchRequest(query=alert.query, topics=(alert.topic,) if alert.topic else ())
    try:
        with open_searcher(settings) as searcher:
            matching = set(searcher.iter_matching_pmids(req))
    except KetlitError as exc:  # a bad saved query must not hide the rest of the digest
        result.error = str(exc)
        log.warning("saved search %s could not run: %s", alert.name, exc)
        return result
    result.articles = [a for a in new if a.pmid in matching and a.pmid in new_ids]
    return result


# -- Markdown ---------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _authors(article: Article) -> str:
    names = article.author_names
    if not names:
        return ""
    shown = names[:MAX_AUTHORS]
    return ", ".join(shown) + (", et al." if len(names) > MAX_AUTHORS else "")


def render_article(article: Article) -> str:
    title = _md(article.title or article.book_title or "(no title)").rstrip(".")
    parts = [f"**{title}.**"]
    authors = _authors(article)
    if authors:
        parts.append(_md(authors).rstrip(".") + ".")
    journal = article.journal or article.journal_iso or article.publisher
    if journal:
        parts.append(f"*{_md(journal)}*.")
    if article.pub_year:
        parts.append(f"{article.pub_year}.")
    if article.retracted:
        parts.append("**Retracted.**")
    parts.append(f"[PMID {article.pmid}]({PUBMED_URL.format(pmid=article.pmid)})")
    return "- " + " ".join(parts)


# Design labels (index.evidence) as the digest counts them: (one, many).
_DESIGN_NAMES = {
    "rct": ("RCT", "RCTs"), "cohort": ("cohort study", "cohort studies"),
    "real-world": ("real-world study", "real-world studies"),
    "protocol": ("study protocol", "study protocols"),
    "systematic-review": ("systematic review", "systematic reviews"),
    "qualitative": ("qualitative study", "qualitative studies"),
    "case-report": ("case report", "case reports"), "case-series": ("case series", "case series"),
}


def evidence_counts(articles: Iterable[Article]) -> str | None:
    """What is new by design, from the evidence annotations: "By design: 2 new RCTs of
    esketamine; 1 new systematic review of ketamine; 3 other new records." Each record counts
    once, under its first design and the drugs it names; None when there is nothing."""
    counts: Counter[tuple[str, str]] = Counter()
    others = 0
    for art in articles:
        ann = art.annotations or {}
        designs = [d for d in ann.get("design") or () if d in _DESIGN_NAMES]
        if not designs:
            others += 1
            continue
        drugs = [d for d in ann.get("drug") or () if d not in ("unknown",)]
        counts[(designs[0], " and ".join(drugs))] += 1
    if not counts:
        return None
    order = list(_DESIGN_NAMES)
    parts = []
    for (design, drugs), n in sorted(counts.items(),
                                     key=lambda kv: (-kv[1], order.index(kv[0][0]), kv[0][1])):
        one, many = _DESIGN_NAMES[design]
        parts.append(f"{n} new {one if n == 1 else many}" + (f" of {drugs}" if drugs else ""))
    if others:
        parts.append(f"{others} other new record{'' if others == 1 else 's'}")
    return "By design: " + "; ".join(parts) + "."


def _section(lines: list[str], articles: Iterable[Article]) -> None:
    arts = list(articles)
    summary = evidence_counts(arts)
    if summary:
        lines += [_md(summary), ""]
    if len(arts) > LIST_ALL_MAX:
        years = Counter(a.pub_year for a in arts if a.pub_year)
        shown = sorted(years.items(), reverse=True)
        by_year = ", ".join(f"{y} {n:,}" for y, n in shown[:12])
        if len(shown) > 12:
            by_year += f", {shown[-1][0]}-{shown[12][0]} {sum(n for _y, n in shown[12:]):,}"
        lines += [f"{len(arts):,} records; by year of publication: {by_year}.", "",
                  f"The newest {LIST_NEWEST} to arrive are listed; `ketlit new` or the web "
                  "page's \"New since last harvest\" lists them all.", ""]
        arts = arts[:LIST_NEWEST]
    items = [render_article(a) for a in arts]
    lines.extend(items if items else ["No new records."])
    lines.append("")


def render_digest(settings: Settings, digest: Digest, day: str) -> str:
    since = digest.since.astimezone(ZoneInfo(settings.schedule.timezone))
    total = len({a.pmid for arts in digest.topics.values() for a in arts})
    lines = [f"# ketlit digest {day}", "",
             f"Records new to the index since the harvest that started "
             f"{since.isoformat(sep=' ', timespec='seconds')}: {total}.", ""]
    if digest.first:
        lines += ["This was the first harvest: it brought the topics' whole history, so each "
                  f"topic with more than {LIST_ALL_MAX} records is summarised below rather than "
                  "listed in full. Later digests list each night's arrivals.", ""]
    for name, arts in digest.topics.items():
        topic = settings.topics[name]
        heading = f"{topic.label} ({name})" if topic.label else name
        lines += [f"## {_md(heading)}: {len(arts)} new", ""]
        _section(lines, arts)
        gone = digest.left.get(name) or []
        if gone:
            shown = ", ".join(gone[:LIST_ALL_MAX]) + (", ..." if len(gone) > LIST_ALL_MAX else "")
            lines += [f"{len(gone)} record(s) left this topic (deleted from PubMed, or no longer "
                      f"matching its query): PMID {shown}", ""]
    for res in digest.alerts:
        scope = f" in topic {res.alert.topic}" if res.alert.topic else ""
        lines += [f"## Saved search {_md(res.alert.name)}: {len(res.articles)} new", "",
                  f"Query: `{res.alert.query.replace('`', '')}`{scope}", ""]
        if res.error:
            lines += [f"The query could not be run: {_md(res.error)}", ""]
        else:
            _section(lines, res.articles)
    return "\n".join(lines).rstrip() + "\n"


def _create_dated(directory: Path, day: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = directory / (f"{day}.md" if n == 1 else f"{day}-{n}.md")
        try:
            # 'x': never overwrite an earlier run's digest, even if two writers race.
            with path.open("x", encoding="utf-8") as fh:
                fh.write(text)
            return path
        except FileExistsError:
            n += 1


def write_digest(settings: Settings, since: datetime | str | None = None) -> Path | None:
    """Write the digest of the records new since ``since`` (default: the latest harvest's start).

    Returns the file written, or None when nothing was new (or nothing was ever harvested).
    """
    since_dt = _since_dt(since) if since is not None else last_harvest_start(settings)
    if since_dt is None or not settings.store_path.exists():
        log.info("no digest: nothing harvested yet")
        return None
    digest = collect_digest(settings, since_dt)
    if digest.empty:
        log.info("no digest: nothing new since %s", _iso(since_dt))
        return None
    day = datetime.now(UTC).astimezone(ZoneInfo(settings.schedule.timezone)).date().isoformat()
    path = _create_dated(settings.digests_dir, day, render_digest(settings, digest, day))
    counts = ", ".join(f"{name} {len(a)}" for name, a in digest.topics.items())
    alerts = ", ".join(f"{r.alert.name} {len(r.articles)}" for r in digest.alerts)
    log.info("digest written to %s (new: %s%s)", path, counts or "none",
             f"; saved searches: {alerts}" if alerts else "")
    return path
