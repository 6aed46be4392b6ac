"""Response times of `ketlit serve` at 100,000 records: the page, the search API, a record.

Builds (or reuses) a data dir of N PubMed-like records (bench/generate.py's seeded generator;
the shared real records replicated under new PMIDs if that module is missing), indexes them with `reindex`, starts the real
server (`ketlit serve --port 0`, uvicorn) and times requests over HTTP with keep-alive:

- page:    GET /?q=...            (search + facets + HTML, the page a user loads)
- search:  GET /api/search?q=...  (the design's search JSON with facets)
- record:  GET /api/records/{pmid}
- record page: GET /records/{pmid} (abstract + similar articles)

Baselines in the same run: GET /static/style.css (the server's floor: HTTP + uvicorn + routing)
and the same searches through an in-process Searcher (the search itself, no HTTP); the difference
is what the web layer adds. Queries are drawn from the records' own titles (one to three words, a
phrase, a [ti] field tag, a topic filter, newest-first), seeded.

    python bench/bench_web.py [--records 100000] [--requests 200] [--data-dir DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from bench.report import write_section  # noqa: E402
from index.article import Article  # noqa: E402
from index.settings import Settings, load_settings  # noqa: E402
from index.store import RecordStore  # noqa: E402
from tests.helpers import EFETCH_XML, ketlit_executable, write_config  # noqa: E402

TOPICS = {
    "depression": {"label": "Ketamine for depression", "query": "ketamine AND depression"},
    "ptsd": {"label": "Ketamine for PTSD", "query": "ketamine AND ptsd"},
    "ocd": {"label": "Ketamine for OCD", "query": "ketamine AND ocd"},
}
STOP = {"with", "from", "that", "this", "than", "into", "after", "their", "during", "between",
        "among", "which", "were", "have", "study", "using", "based", "versus", "through"}


# -- data ------------------------------------------------------------------------------------------

def _replicated(n: int, seed: int) -> Iterator[Article]:
    """Fallback: the shared real records, copied under new PMIDs with shifted years."""
    from harvester.parse import iter_pubmed

    base = [r for p in sorted(EFETCH_XML.rglob("*.xml")) for r in iter_pubmed(p)
            if isinstance(r, Article)]
    rng = random.Random(seed)
    for i in range(n):
        art = Article.from_dict(base[i % len(base)].to_dict())
        art.pmid = str(40_000_000 + i)
        if art.pub_year:
            art.pub_year = max(1960, min(2025, art.pub_year + rng.randint(-3, 3)))
        yield art


def _topics(rng: random.Random) -> list[str]:
    r = rng.random()
    if r < 0.6:
        return ["depression"]
    if r < 0.8:
        return ["ptsd"]
    if r < 0.9:
        return ["ocd"]
    return ["depression", "ptsd"]


def build(data_parent: Path, n: int, seed: int) -> tuple[Path, str]:
    """A config over an indexed data dir of n records; reused when already built."""
    config = data_parent / "config.yaml"
    marker = data_parent / f"built-{n}-{seed}"
    if marker.exists():
        return config, marker.read_text()
    config = write_config(data_parent, topics=TOPICS)
    settings = load_settings(config)
    t0 = time.perf_counter()
    try:
        from bench.generate import write_collection
    except ImportError:
        write_collection = None
    if write_collection is not None:
        origin = "bench/generate.py"
        times = write_collection(n, settings.data_dir, seed=seed, progress=False)
        store_s, index_s = times["generate_store_s"], times["index_s"]
    else:
        origin = "replicated shared records"
        store_s, index_s = _build_replicated(settings, n, seed)
    print(f"built {n:,} records ({origin}) in {time.perf_counter() - t0:.0f} s: store "
          f"{store_s:.0f} s, index {index_s:.0f} s", file=sys.stderr)
    marker.write_text(origin)
    return config, origin


def _build_replicated(settings: Settings, n: int, seed: int) -> tuple[float, float]:
    from index.whoosh.writer import rebuild_index

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with RecordStore(settings.store_path) as store:
        batch: dict[str, list[Article]] = {}
        for count, art in enumerate(_replicated(n, seed), 1):
            for t in _topics(rng):
                batch.setdefault(t, []).append(art)
            if count % 5000 == 0:
                _flush(store, batch)
        _flush(store, batch)
    t1 = time.perf_counter()
    rebuild_index(settings)
    return t1 - t0, time.perf_counter() - t1


def _flush(store: RecordStore, batch: dict[str, list[Article]]) -> None:
    with store.transaction():
        for topic, arts in batch.items():
            store.upsert(arts, topic=topic)
    batch.clear()


# -- queries ---------------------------------------------------------------------------------------

def queries(config: Path, count: int, seed: int) -> tuple[list[dict[str, str]], list[str]]:
    """Realistic searches drawn from random records' titles, and random PMIDs."""
    settings = load_settings(config)
    rng = random.Random(seed)
    with RecordStore(settings.store_path) as store:
        pmids = sorted(store.pmids())
        sample = store.get_many(rng.sample(pmids, min(len(pmids), count * 3)))
    words_of = {}
    for pmid, art in sample.items():
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", art.title or "")
                 if w.lower() not in STOP]
        if len(words) >= 3:
            words_of[pmid] = words
    pool = list(words_of.values())
    out: list[dict[str, str]] = []
    for i in range(count):
        words = pool[i % len(pool)]
        kind = i % 6
        if kind == 0:
            q = {"q": words[0]}
        elif kind == 1:
            q = {"q": " ".join(rng.sample(words, 2))}
        elif kind == 2:
            q = {"q": " ".join(rng.sample(words, 3))}
        elif kind == 3:
            start = rng.randrange(0, len(words) - 1)
            q = {"q": f'"{words[start]} {words[start + 1]}"'}
        elif kind == 4:
            q = {"q": f"{words[0]}[ti]", "topic": "ptsd"}
        else:
            q = {"q": words[1], "sort": "newest", "from": "2010"}
        out.append(q)
    return out, rng.sample(pmids, min(len(pmids), count))


# -- timing ----------------------------------------------------------------------------------------

def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def start_server(config: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([*ketlit_executable(), "--config", str(config), "serve", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, cwd=str(REPO))
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"ketlit serve did not start: {line}{proc.stderr.read()}")
    return proc, m.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200, help="requests per measured kind")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--data-dir", type=Path, help="where to build (and reuse) the data")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/README.md")
    args = ap.parse_args()

    parent = args.data_dir or Path(tempfile.gettempdir()) / f"ketlit-bench-web-{args.records}"
    parent.mkdir(parents=True, exist_ok=True)
    config, origin = build(parent, args.records, args.seed)
    qs, pmids = queries(config, args.requests, args.seed)

    # in-process baseline: the same searches without HTTP
    from search.searcher import SearchRequest, open_searcher

    settings = load_settings(config)

    def req(q: dict[str, str]) -> SearchRequest:
        return SearchRequest(query=q["q"], sort=q.get("sort", "relevance"),
                             topics=[q["topic"]] if "topic" in q else [],
                             year_from=int(q["from"]) if "from" in q else None)

    names = ["static file (baseline)", "page /?q=", "API /api/search (with facets)",
             "API /api/records/{pmid}", "page /records/{pmid} (+ similar)",
             "search in-process, no HTTP (baseline)"]
    results: dict[str, list[float]] = {n: [] for n in names}
    proc, base = start_server(config)
    try:
        with open_searcher(settings) as searcher, \
                httpx.Client(base_url=base, timeout=60) as client:
            def get(path: str, params: dict[str, str] | None = None) -> None:
                r = client.get(path, params=params)
                if r.status_code != 200:
                    raise SystemExit(f"{path} {params}: {r.status_code} {r.text[:200]}")

            totals = [searcher.search(req(q)).total for q in qs[:30]]
            for q in qs[:10]:  # warm up: caches, the server's searcher
                get("/", q)
                get("/api/search", q)
            # Interleaved, in a rotating order, so that load from other jobs and the page cache
            # warmed by one kind of request weigh on every kind alike.
            for i, (q, pmid) in enumerate(zip(qs, pmids, strict=False)):
                calls: list[tuple[str, Callable[[], object]]] = [
                    (names[0], lambda: get("/static/style.css")),
                    (names[1], lambda q=q: get("/", q)),
                    (names[2], lambda q=q: get("/api/search", q)),
                    (names[3], lambda p=pmid: get(f"/api/records/{p}")),
                    (names[4], lambda p=pmid: get(f"/records/{p}")),
                    (names[5], lambda q=q: searcher.search(req(q))),
                ]
                k = i % len(calls)
                for name, fn in calls[k:] + calls[:k]:
                    results[name] += timed(fn, 1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    direct = results[names[5]]

    lines = [
        "## Web page and API response times",
        "",
        f"`python bench/bench_web.py --records {args.records} --requests {args.requests}` "
        f"({args.records:,} records from {origin}; {os.cpu_count()} CPUs; "
        f"one client, keep-alive, {args.requests} requests per row after a warm-up, the kinds "
        "interleaved in rotating order; queries "
        "drawn from the records' titles: 1-3 words, a phrase, a [ti] tag with a topic filter, "
        f"newest-first with a year filter; median hits per query {statistics.median(totals):,.0f}).",
        "",
        "| request | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in results.items():
        lines.append(f"| {name} | {pct(values, 50):.1f} | {pct(values, 95):.1f} | "
                     f"{max(values):.1f} |")
    api50, bare50 = pct(results[names[2]], 50), pct(direct, 50)
    page50 = pct(results[names[1]], 50)
    lines += ["", f"At p50 the search API answers in {api50:.1f} ms against {bare50:.1f} ms for the "
              f"same searches in-process without HTTP (difference {api50 - bare50:+.1f} ms: HTTP, "
              "the OpenAPI response model and JSON cost next to nothing beside the search); the "
              f"page adds {page50 - api50:+.1f} ms for the HTML. The static file is the floor of "
              "an HTTP round trip here. Searching (facets over every hit, snippets) is the cost; "
              "see the latency section for how it grows with the collection."]
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        write_section("web", section)


if __name__ == "__main__":
    main()
