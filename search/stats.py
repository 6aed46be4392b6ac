"""`ketlit stats`: how many records, per topic, year and publication type; the last harvests.

Counts come from the record store (the source of truth) for totals and topics, and from the
index's facet column for years and types (one read, no JSON decoding of every record); with no
index they are computed from the store.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from index.errors import IndexMissingError
from index.settings import Settings
from index.store import RecordStore


def collect_stats(settings: Settings) -> dict[str, Any]:
    if not settings.store_path.exists():
        return _empty(settings)
    store = RecordStore(settings.store_path, readonly=True)
    try:
        total = store.count()
        topics = {name: store.count(name) for name in settings.topics}
        years: Counter[str] = Counter()
        types: Counter[str] = Counter()
        from_index = False
        if total:
            try:
                facets = _index_facets(settings)
                years.update(facets["year"])
                types.update(facets["publication_type"])
                for name, n in facets["topic"].items():
                    topics.setdefault(name, n)
                from_index = True
            except IndexMissingError:
                for art in store.iter_articles():
                    if art.pub_year:
                        years[str(art.pub_year)] += 1
                    types.update(art.publication_types)
                    for t in art.topics:
                        if t not in topics:
                            topics[t] = store.count(t)
        runs = {topic: run.to_dict() for topic, run in sorted(store.last_runs().items())}
        return {
            "total": total,
            "topics": topics,
            "years": dict(sorted(years.items(), reverse=True)),
            "publication_types": dict(types.most_common()),
            "last_runs": runs,
            "last_harvest_started": store.get_meta("last_harvest_started"),
            "counts_from": "index" if from_index else "store",
        }
    finally:
        store.close()


def _empty(settings: Settings) -> dict[str, Any]:
    return {"total": 0, "topics": {name: 0 for name in settings.topics}, "years": {},
            "publication_types": {}, "last_runs": {}, "last_harvest_started": None,
            "counts_from": "store"}


def _index_facets(settings: Settings) -> dict[str, dict[str, int]]:
    from search.searcher import Searcher

    with Searcher(settings) as searcher:
        return searcher.all_facets()


def render_stats_text(data: dict[str, Any]) -> str:
    lines = [f"{data['total']} record(s)"]
    if data["topics"]:
        lines.append("")
        lines.append("by topic:")
        width = max(len(t) for t in data["topics"])
        for name, n in data["topics"].items():
            lines.append(f"  {name:<{width}}  {n}")
    if data.get("years"):
        lines.append("")
        lines.append("by year (newest first):")
        lines.extend(text_histogram(data["years"]))
    if data.get("publication_types"):
        lines.append("")
        lines.append("by publication type:")
        for t, n in list(data["publication_types"].items())[:12]:
            lines.append(f"  {n:>7}  {t}")
    lines.append("")
    if data.get("last_runs"):
        lines.append("last harvest per topic:")
        for topic, run in data["last_runs"].items():
            when = run.get("ended") or run.get("started")
            detail = f"{run.get('new', 0)} new, {run.get('updated', 0)} updated"
            err = f" - {run['error']}" if run.get("error") else ""
            lines.append(f"  {topic}: {run.get('status')} at {when} ({detail}){err}")
    else:
        lines.append("no harvest has run yet")
    return "\n".join(lines)


def text_histogram(years: dict[str, int], rows: int = 15, width: int = 40) -> list[str]:
    """``ketlit stats``'s per-year histogram: newest first, one line a year, bars of block
    characters scaled to the commonest year, the count beside each; older years on one line."""
    items = sorted(((int(y), n) for y, n in years.items() if str(y).isdigit()), reverse=True)
    if not items:
        return []
    shown, rest = items[:rows], items[rows:]
    peak = max(n for _y, n in shown)
    count_w = max(len(f"{n:,}") for _y, n in items)
    lines = []
    for y, n in shown:
        cells = max(1, round(width * n / peak)) if n else 0
        lines.append(f"  {y}  {n:>{count_w},}  {'█' * cells}")
    if rest:
        lines.append(f"  {rest[-1][0]}-{rest[0][0]}  {sum(n for _y, n in rest):,} (earlier years)")
    return lines
