"""Harvest throughput: parse alone, Whoosh indexing alone, and end to end, plus peak memory.

The loopback E-utilities server (tests/eutils_server.py) runs standalone in its own process with
the real records of ../shared/data/pubmed replicated under new PMIDs (20,000 by default; create
dates spread over 2000-2025, so the walk splits date windows under the 9,999 cap as it would on
PubMed). The request rate is raised far above NCBI's 3/s because this is our own server, not
NCBI: the benchmark measures our code, not the politeness delay (which would make any harvest of
20,000 records take 40 requests / 3 per s regardless of the code).

In the same run, on the same documents:

- parse alone: ``harvester.parse.parse_articles`` over the efetch answers (bytes already fetched);
- Whoosh alone (the baseline): the same Articles written with ``index.whoosh.writer.open_index_writer``
  (text analysis included) in batches of ``batch_size`` with a commit per batch, as the harvest
  commits the index, in a fresh process that holds one batch at a time;
- end to end: ``ketlit harvest`` logic (``run_harvest``) in a fresh process: esearch per window,
  efetch, parse and text analysis (in the helper process), SQLite store, Whoosh commit,
  checkpoints.

Peak memory is the peak RSS (VmHWM, bench/report.py says why) of the end-to-end process and of
the Whoosh-alone process, for half and all of the records.

    python bench/bench_harvest.py [--records 20000] [--batch 500] [--no-write]
    python bench/bench_harvest.py --ab-against DIR [--records 3000] [--rounds 3]

``--ab-against DIR``: the end-to-end harvest of this checkout (B) against another checkout of
ketlit at DIR (A, e.g. a ``git worktree`` of the commit before a change), same server, same
records, interleaved A B A B ..., best of each: a same-run A/B of a change's cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
import yaml  # noqa: E402

from bench.report import peak_rss_mb, vmhwm_mb, write_section  # noqa: E402

ALL_RECORDS = "1000:3000[crdt]"  # the loopback server's query for every record it holds
RATE = 1000.0  # requests/s: our own loopback server, not NCBI


def start_server(n: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.eutils_server", "--port", "0",
                             "--replicate", str(n)], stdout=subprocess.PIPE, text=True,
                            cwd=str(REPO))
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http"):
        proc.kill()
        raise SystemExit(f"loopback server did not start: {base!r}")
    return proc, base


def write_config(directory: Path, base: str, batch: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    cfg = {"data_dir": str(directory / "data"),
           "pubmed": {"base_url": base, "email": "bench@example.org", "batch_size": batch,
                      "requests_per_second": RATE, "timeout_s": 60},
           "topics": {"all": {"query": ALL_RECORDS}},
           # Embedding is measured by bench_embed.py: with the semantic extra installed it would
           # run here at ~30 records/s and hide everything else this bench measures.
           "index": {"embeddings": False}}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


# The parse helper of the no-annotation baseline: the real helper loop, annotate a no-op.
NO_ANNOTATION_HELPER = (
    "import contextlib, sys\n"
    "import harvester.parse_worker as w\n"
    "w.annotate = lambda art, rules=None: {}\n"
    "with contextlib.suppress(BrokenPipeError):\n"
    "    w.serve(sys.stdin.buffer, sys.stdout.buffer)\n")


def child_harvest(config: str) -> None:
    """Runs in a fresh process: one end-to-end harvest; prints JSON with time and peak RSS."""
    from harvester.harvest import run_harvest
    from index.settings import load_settings

    if os.environ.get("KETLIT_BENCH_NO_ANNOTATIONS"):
        # The A/B baseline of --annotations-ab: nothing annotates. The harvest annotates in its
        # parse helper (``python -m harvester.parse_worker``, a process of its own), and the
        # catalog and the store annotate what arrives without: each gets a no-op.
        import harvester.parse_worker
        import index.annotations
        import index.store

        for mod in (index.annotations, index.store):
            mod.annotate = lambda art, rules=None: {}  # type: ignore[attr-defined]
        popen = subprocess.Popen

        def helper_without_annotations(args: Any, *a: Any, **kw: Any) -> Any:
            if list(args[1:]) == ["-m", "harvester.parse_worker"]:
                args = [args[0], "-c", NO_ANNOTATION_HELPER]
            return popen(args, *a, **kw)

        harvester.parse_worker.subprocess.Popen = helper_without_annotations  # type: ignore[misc]

    def children_cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    settings = load_settings(config)
    helper_peak = [0.0]
    done = threading.Event()

    def watch_helper() -> None:
        # The helper's own peak: its VmHWM only rises, so the last reading before it exits is
        # its peak to within what it allocates in one polling interval.
        while not done.wait(0.2):
            helper_peak[0] = max([helper_peak[0], *(vmhwm_mb(p) or 0.0 for p in _child_pids())])

    watcher = threading.Thread(target=watch_helper, daemon=True)
    watcher.start()
    t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
    report = run_harvest(settings)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    helper_cpu = children_cpu() - k0  # the parser's helper process, reaped when the run ends
    done.set()
    watcher.join()
    t = report.topics[0]
    print(json.dumps({"seconds": seconds, "cpu": cpu + helper_cpu, "helper_cpu": helper_cpu,
                      "records": t.new + t.updated,
                      "ok": report.ok,
                      "windows": t.windows, "requests": t.requests,
                      "maxrss_mb": peak_rss_mb(), "helper_peak_mb": helper_peak[0]}))


def _child_pids() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").glob("*/children"):
        try:
            pids.extend(int(p) for p in task.read_text().split())
        except OSError:
            continue
    return pids


def end_to_end(base: str, directory: Path, batch: int,
               annotations: bool = True, repo: Path = REPO) -> dict[str, Any]:
    """One harvest in a fresh process running the code of ``repo`` (its bench script puts it
    first on sys.path)."""
    cfg = write_config(directory, base, batch)
    env = dict(os.environ)
    if not annotations:
        env["KETLIT_BENCH_NO_ANNOTATIONS"] = "1"
    out = subprocess.run([sys.executable, str(repo / "bench" / "bench_harvest.py"), "--child",
                          str(cfg)], capture_output=True, text=True, cwd=str(repo), check=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fetch_bodies(base: str, pmids: list[str], batch: int) -> list[bytes]:
    session = requests.Session()
    bodies = []
    for i in range(0, len(pmids), batch):
        r = session.post(base + "efetch.fcgi", data={"db": "pubmed", "retmode": "xml",
                                                     "id": ",".join(pmids[i:i + batch])})
        r.raise_for_status()
        bodies.append(r.content)
    return bodies


def parse_alone(bodies: list[bytes]) -> tuple[float, float, int]:
    """(wall s, CPU s, records). Each answer's Articles are dropped after parsing, as in the
    harvest: keeping all 20,000 alive would time Python's garbage collector walking them."""
    from harvester.parse import parse_articles

    t0, c0 = time.perf_counter(), time.process_time()
    n = sum(len(parse_articles(body)) for body in bodies)
    return time.perf_counter() - t0, time.process_time() - c0, n


def save_bodies(bodies: list[bytes], path: Path) -> None:
    with open(path, "wb") as fh:
        for body in bodies:
            fh.write(len(body).to_bytes(8, "big"))
            fh.write(body)


def child_whoosh(bodies_path: str, data_dir: str) -> None:
    """Runs in a fresh process: Whoosh alone on the same documents, a commit per efetch answer
    (batch_size records), timing only the index writes; one batch in memory at a time, so the
    peak RSS is Whoosh's own."""
    from harvester.parse import parse_articles
    from index.settings import settings_from_mapping
    from index.whoosh.writer import open_index_writer

    settings = settings_from_mapping({"data_dir": data_dir}, base_dir=Path(data_dir))
    wall = cpu = 0.0
    n = 0
    with open(bodies_path, "rb") as fh:
        while head := fh.read(8):
            articles = parse_articles(fh.read(int.from_bytes(head, "big")))
            for a in articles:
                a.topics = {"all"}
            t0, c0 = time.perf_counter(), time.process_time()
            with open_index_writer(settings) as writer:
                writer.upsert(articles)
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
            n += len(articles)
    print(json.dumps({"seconds": wall, "cpu": cpu, "records": n,
                      "maxrss_mb": peak_rss_mb()}))


def whoosh_alone(bodies_path: Path, directory: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child-whoosh", str(bodies_path),
                          str(directory)], capture_output=True, text=True, cwd=str(REPO),
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored_pmids(directory: Path) -> list[str]:
    import sqlite3

    con = sqlite3.connect(str(directory / "data" / "records.sqlite3"))
    try:
        return [r[0] for r in con.execute("SELECT pmid FROM articles ORDER BY pmid")]
    finally:
        con.close()



def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def annotations_ab(args: argparse.Namespace) -> None:
    """End-to-end harvest rate without (A, the store's annotate replaced by a no-op) and with
    (B) the evidence annotations, same server and records, interleaved A B A B; best of each."""
    n = args.records
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="bench-harvest-ab-") as tmp:
        server, base = start_server(n)
        try:
            for i, with_ann in enumerate((False, True, False, True)):
                r = end_to_end(base, Path(tmp) / f"run-{i}", args.batch, annotations=with_ann)
                print(f"{'with' if with_ann else 'without'} annotations: {r}", flush=True)
                runs[with_ann].append(r)
        finally:
            server.terminate()
            server.wait()
    rate = {k: max(r["records"] / r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: max(r["records"] / r["cpu"] for r in v) for k, v in runs.items()}
    slower = 1 - rate[True] / rate[False]
    text = "\n".join([
        "## Harvest with and without evidence annotations (issue 16)",
        "",
        f"`python bench/bench_harvest.py --annotations-ab --records {n} --batch {args.batch}`: "
        "end-to-end `run_harvest` against the loopback server, the same records, run A (every "
        "`annotate`, the parse helper's included, a no-op) and B (as shipped) interleaved "
        "A B A B, best of "
        f"each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end.",
        "",
        "| run | records per wall-s | records per CPU-s |",
        "|---|---:|---:|",
        f"| A: without annotations | {rate[False]:,.0f} | {cpu[False]:,.0f} |",
        f"| B: with annotations | {rate[True]:,.0f} | {cpu[True]:,.0f} |",
        "",
        f"B is {slower:.1%} slower end to end (target: at most 10%: "
        f"{verdict(slower <= 0.10)}).",
    ])
    print(text)
    if not args.no_write:
        write_section("harvest-annotations", text)


def checkout_ab(args: argparse.Namespace) -> None:
    """End-to-end harvest rate of another checkout (A) and this one (B), same server and
    records, interleaved A B A B ...; best of each."""
    other = Path(args.ab_against).resolve()
    if not (other / "bench" / "bench_harvest.py").exists():
        raise SystemExit(f"{other}: not a ketlit checkout (no bench/bench_harvest.py)")
    n = args.records
    runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory(prefix="bench-harvest-ab-") as tmp:
        server, base = start_server(n)
        try:
            for i in range(args.rounds):
                for side, repo in (("A", other), ("B", REPO)):
                    r = end_to_end(base, Path(tmp) / f"{side}-{i}", args.batch, repo=repo)
                    if not r["ok"] or r["records"] != n:
                        raise SystemExit(f"run {side}{i} did not harvest {n} records: {r}")
                    print(f"{side}{i}: {r}", flush=True)
                    runs[side].append(r)
        finally:
            server.terminate()
            server.wait()
    rate = {k: max(r["records"] / r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: max(r["records"] / r["cpu"] for r in v) for k, v in runs.items()}
    slower = 1 - rate["B"] / rate["A"]
    slower_cpu = 1 - cpu["B"] / cpu["A"]
    print(f"A {other}: {rate['A']:.1f} records/wall-s, {cpu['A']:.1f} records/CPU-s")
    print(f"B {REPO}: {rate['B']:.1f} records/wall-s, {cpu['B']:.1f} records/CPU-s")
    print(f"B slower by {slower:.1%} (wall), {slower_cpu:.1%} (CPU); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-whoosh", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--ab-against", metavar="DIR",
                    help="A/B of the end-to-end harvest: the ketlit checkout at DIR (A) against "
                         "this one (B)")
    ap.add_argument("--rounds", type=int, default=3, help="A/B rounds (with --ab-against)")
    ap.add_argument("--annotations-ab", action="store_true",
                    help="only the A/B of end-to-end harvest rate without/with annotations")
    args = ap.parse_args()
    if args.child:
        child_harvest(args.child)
        return
    if args.annotations_ab:
        annotations_ab(args)
        return
    if args.ab_against:
        checkout_ab(args)
        return
    if args.child_whoosh:
        child_whoosh(*args.child_whoosh)
        return
    half = args.records // 2
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-harvest-") as tmp:
        root = Path(tmp)
        for n in (half, args.records):
            server, base = start_server(n)
            try:
                e2e = end_to_end(base, root / f"e2e-{n}", args.batch)
                print(f"end to end, {n} records: {e2e}", flush=True)
                pmids = stored_pmids(root / f"e2e-{n}")
                bodies = fetch_bodies(base, pmids, args.batch)
            finally:
                server.terminate()
                server.wait()
            save_bodies(bodies, root / f"bodies-{n}")
            alone = whoosh_alone(root / f"bodies-{n}", root / f"whoosh-{n}")
            print(f"whoosh alone, {n} records: {alone}", flush=True)
            results[n] = {"e2e": e2e, "whoosh": alone}
        parse_s, parse_cpu, m = parse_alone(bodies)
        print(f"parse alone: {m} records in {parse_s:.1f}s ({parse_cpu:.1f} CPU s)", flush=True)
    n = args.records
    e2e = results[n]["e2e"]
    alone = results[n]["whoosh"]
    wall = {"parse": m / parse_s, "whoosh": alone["records"] / alone["seconds"],
            "e2e": e2e["records"] / e2e["seconds"]}
    cpu = {"parse": m / parse_cpu, "whoosh": alone["records"] / alone["cpu"],
           "e2e": e2e["records"] / e2e["cpu"]}
    share_cpu = cpu["e2e"] / cpu["whoosh"]
    share_wall = wall["e2e"] / wall["whoosh"]
    load = os.getloadavg()[0]
    lines = [
        "## Harvest (parse, index, end to end)",
        "",
        f"`python bench/bench_harvest.py --records {n} --batch {args.batch}`: the loopback "
        f"E-utilities server in its own process with {n:,} records (real records replicated "
        "under new PMIDs), one topic matching all of them, `batch_size` "
        f"{args.batch}, cap 9,999, requests_per_second raised to {RATE:g} because it is our own "
        "server, not NCBI (at NCBI's 3/s the politeness delay, not the code, sets the pace). "
        f"Same run, same documents; load average {load:.1f} on {os.cpu_count()} CPUs at the end.",
        "",
        "The target compares wall-clock rates: records per second is what a harvest delivers. "
        "CPU-seconds are shown as well; for the end-to-end run they include the parser's helper "
        "process (harvester/parse_worker.py), which runs on the second core. That helper also "
        "analyses each record's text for the index (tokens, stems, positions), work that Whoosh "
        "alone does in its one process: this is how the harvest comes close to, or passes, the "
        "baseline while also fetching, storing and checkpointing. The index writes themselves "
        "are the same: one commit per `batch_size` records (a date window's short last batch "
        "waits for the next window's records), the same merges, the garbage collector paused "
        "during each write (index/whoosh/writer.py says why).",
        "",
        "| stage | records | records per CPU-s | records per wall-s | target |",
        "|---|---:|---:|---:|---|",
        f"| parse alone (`parse_articles` on efetch answers) | {m:,} | {cpu['parse']:,.0f} | "
        f"{wall['parse']:,.0f} | >= 3,000 |",
        f"| Whoosh alone, a commit per {args.batch} (baseline) | {alone['records']:,} | "
        f"{cpu['whoosh']:,.0f} | {wall['whoosh']:,.0f} | |",
        f"| end to end (`run_harvest`: esearch windows, efetch, parse, SQLite, Whoosh, "
        f"checkpoints) | {e2e['records']:,} | {cpu['e2e']:,.0f} | {wall['e2e']:,.0f} | "
        f">= 85% of baseline: **{share_wall:.0%}** ({verdict(share_wall >= 0.85)}; "
        f"{share_cpu:.0%} per CPU-s) |",
        "",
        f"End to end: {e2e['windows']} date windows, {e2e['requests']} requests, "
        f"{e2e['seconds']:.0f} s wall, {e2e['cpu']:.0f} CPU s.",
        "",
        "Peak memory (peak RSS of a fresh process), end to end and Whoosh alone on the same "
        "documents (one batch in memory at a time), and the harvest's parse helper:",
        "",
        "| records | harvest (end to end) | its parse helper | Whoosh alone |",
        "|---:|---:|---:|---:|",
    ]
    for k in sorted(results):
        lines.append(f"| {k:,} | {results[k]['e2e']['maxrss_mb']:.0f} MB | "
                     f"{results[k]['e2e'].get('helper_peak_mb', 0):.0f} MB | "
                     f"{results[k]['whoosh']['maxrss_mb']:.0f} MB |")
    lo, hi = sorted(results)
    grow_e2e = results[hi]["e2e"]["maxrss_mb"] - results[lo]["e2e"]["maxrss_mb"]
    grow_wh = results[hi]["whoosh"]["maxrss_mb"] - results[lo]["whoosh"]["maxrss_mb"]
    # "Does not grow": twice the records, less than 10% more peak memory (allocator noise and
    # the mapped index files touched while deleting old copies account for a few MB).
    flat = grow_e2e < 0.10 * results[lo]["e2e"]["maxrss_mb"]
    lines += [
        "",
        f"From {lo:,} to {hi:,} records the peak grows by {grow_e2e:.0f} MB end to end and by "
        f"{grow_wh:.0f} MB for Whoosh alone: memory that does not grow with the number of "
        f"records ({verdict(flat)}; twice the records, less than 10% more memory). Fetching "
        "runs in a producer thread and parsing in a helper process, with at most two batches in "
        "flight, so the harvest holds a batch or two whatever the total. The helper's text "
        "analyses wait as bytes (~9 KB a record) until the index writer takes them. Segment "
        "merges were what grew before: merging pools every posting of the merged segments in "
        "memory, and Whoosh's default policy kept merging the largest segment with each new one "
        "(the harvest peaked at 445 and 472 MB for 10,000 and 20,000 records); "
        "index/whoosh/writer.py's `bounded_merge` never merges past 5,000 records. The Whoosh-alone "
        "figures of earlier runs (up to 608 MB at 20,000 records, varying from run to run) were "
        "the benchmark's own process leaking into the child's `ru_maxrss`; they are VmHWM now.",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_write:
        write_section("harvest", text)


if __name__ == "__main__":
    main()
