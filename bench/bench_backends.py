"""Whoosh against SolrCloud on the same generated records (bench/generate.py), in one run.

    python bench/bench_backends.py [--n 100000] [--rounds 3] [--cluster DIR/cluster.json]
                                   [--shards 2] [--replicas 2] [--heap 1g] [--report]

1. N records generated into a record store, and the Whoosh index built from it as
   ``ketlit reindex`` does (the baseline).
2. The same store indexed into a 2-node loopback SolrCloud (deploy/solrcloud/start, unless
   --cluster names a running one) with ``ketlit reindex``'s Solr path: SHARDS x REPLICAS.
3. For each: build wall time and CPU seconds (ketlit's process, plus the Solr JVMs' from /proc),
   index size (Solr: every core's index, all replicas), search p50/p95 of bench/latency.py's
   queries through ``Searcher.search`` (facets, snippets, records from the store), and the Solr
   nodes' resident memory.
4. A projection to 10^6 and 3.7x10^7 records from the measured per-record costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.generate import build_model, generate  # noqa: E402
from bench.latency import GENERATED_TOPICS, QUERIES, dir_size, pct  # noqa: E402
from bench.report import write_section  # noqa: E402
from index.settings import IndexSettings, SolrSettings, settings_from_mapping  # noqa: E402
from index.whoosh.writer import live_index_dir, rebuild_index  # noqa: E402
from search.searcher import Searcher  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def proc_mem_mb(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def store_records(settings, n: int, seed: int) -> None:
    """bench/generate.py's records into the record store (as write_collection stores them)."""
    from index.store import ORIGIN_INGEST, RecordStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = RecordStore(settings.store_path)
    try:
        batch = []
        for art in generate(n, seed, build_model()):
            batch.append(art)
            if len(batch) == 2000:
                with store.transaction():
                    for a in batch:
                        store.upsert([a], origin=ORIGIN_INGEST, extra_topics=a.topics)
                batch = []
        with store.transaction():
            for a in batch:
                store.upsert([a], origin=ORIGIN_INGEST, extra_topics=a.topics)
    finally:
        store.close()


def latency(settings, rounds: int) -> dict[str, float]:
    times: list[float] = []
    totals = {}
    with Searcher(settings) as s:
        for _kind, req in QUERIES:  # warm-up
            totals[req.query] = s.search(req).total
        for _ in range(rounds):
            for _kind, req in QUERIES:
                t = time.perf_counter()
                s.search(req)
                times.append((time.perf_counter() - t) * 1000)
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "max": max(times),
            "totals": totals}


def solr_index_bytes(urls: list[str], collection: str) -> int:
    import requests

    answer = requests.get(f"{urls[0]}/admin/cores", params={"action": "STATUS", "wt": "json"},
                          timeout=60).json()
    total = 0
    for url in urls:  # every node's cores
        answer = requests.get(f"{url}/admin/cores", params={"action": "STATUS", "wt": "json"},
                              timeout=60).json()
        for name, core in answer.get("status", {}).items():
            if name.startswith(collection + "_"):
                total += int(core["index"]["sizeInBytes"])
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cluster", type=Path, help="cluster.json of a running SolrCloud")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--heap", default="1g", help="each Solr node's -Xmx when started here")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ketlit-backends-"))
    data = work / f"gen-{args.n}-seed{args.seed}"
    started_here = None
    try:
        # 1. Records and the Whoosh baseline.
        settings = settings_from_mapping({"data_dir": str(data), "topics": GENERATED_TOPICS}, data)
        shutil.rmtree(data, ignore_errors=True)
        store_records(settings, args.n, args.seed)
        c0, t0 = self_cpu_s(), time.perf_counter()
        rebuild_index(settings)  # what `ketlit reindex` runs
        whoosh = {"build_s": time.perf_counter() - t0, "cpu_s": self_cpu_s() - c0,
                  "index_bytes": dir_size(live_index_dir(settings)),
                  "store_bytes": settings.store_path.stat().st_size}
        whoosh.update(latency(settings, args.rounds))
        print(f"whoosh: built in {whoosh['build_s']:.0f} s ({whoosh['cpu_s']:.0f} CPU-s), "
              f"index {whoosh['index_bytes'] / 1e6:.0f} MB, p50 {whoosh['p50']:.1f} ms, "
              f"p95 {whoosh['p95']:.1f} ms", flush=True)

        # 2. The same store into SolrCloud.
        if args.cluster:
            cluster = json.loads(args.cluster.read_text())
        else:
            started_here = work / "cluster"
            env = dict(os.environ, KETLIT_SOLR_HEAP=args.heap)
            subprocess.run([str(REPO / "deploy/solrcloud/start"), str(started_here)], check=True,
                           env=env)
            cluster = json.loads((started_here / "cluster.json").read_text())
        nodes = [cluster["pids"][k] for k in sorted(cluster["pids"]) if k.startswith("solr")]
        collection = f"bench_{uuid.uuid4().hex[:6]}"
        solr_settings = replace(settings, index=IndexSettings(backend="solr", solr=SolrSettings(
            urls=tuple(cluster["solr_urls"]), collection=collection, shards=args.shards,
            replicas=args.replicas, timeout_s=120)))
        jcpu0 = sum(proc_cpu_s(p) for p in nodes)
        c0, t0 = self_cpu_s(), time.perf_counter()
        rebuild_index(solr_settings)
        solr = {"build_s": time.perf_counter() - t0, "py_cpu_s": self_cpu_s() - c0,
                "java_cpu_s": sum(proc_cpu_s(p) for p in nodes) - jcpu0}
        solr["index_bytes"] = solr_index_bytes(cluster["solr_urls"], collection)
        solr.update(latency(solr_settings, args.rounds))
        solr["node_mem"] = [proc_mem_mb(p) for p in nodes]
        print(f"solr {args.shards}x{args.replicas}: built in {solr['build_s']:.0f} s "
              f"({solr['py_cpu_s']:.0f} CPU-s ketlit + {solr['java_cpu_s']:.0f} CPU-s Solr), "
              f"index {solr['index_bytes'] / 1e6:.0f} MB (all replicas), "
              f"p50 {solr['p50']:.1f} ms, p95 {solr['p95']:.1f} ms, nodes RSS/peak "
              + ", ".join(f"{r:.0f}/{h:.0f} MB" for r, h in solr["node_mem"]), flush=True)
        same = {q: (whoosh["totals"][q], solr["totals"][q]) for q in whoosh["totals"]
                if whoosh["totals"][q] != solr["totals"][q]}
        print("totals differ:" if same else "every query's total is the same on both", same or "")
        from index.solr.backend import SolrIndex
        from index.solr.collection import delete_collection

        with SolrIndex(solr_settings) as ix:
            delete_collection(ix.client, solr_settings.index.solr)
    finally:
        if started_here is not None:
            subprocess.run([str(REPO / "deploy/solrcloud/stop"), str(started_here)], check=False)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    if args.report:
        write_section("backends", report(args, whoosh, solr, same))
        print("wrote bench/README.md (backends)")


def report(args, whoosh: dict, solr: dict, differ: dict) -> str:
    n = args.n
    copies = args.replicas
    w_rate = n / whoosh["cpu_s"]
    s_cpu = solr["py_cpu_s"] + solr["java_cpu_s"]
    s_rate = n / s_cpu
    w_kb = whoosh["index_bytes"] / n / 1e3
    s_kb = solr["index_bytes"] / n / 1e3 / copies  # one copy
    store_kb = whoosh["store_bytes"] / n / 1e3
    peak = max(h for _r, h in solr["node_mem"])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 cores shared with other work, "
        f"so wall times are pessimistic), {n:,} generated records (bench/generate.py, seed "
        f"{args.seed}), one run. SolrCloud: 2 Solr 9.10 nodes on loopback "
        f"(deploy/solrcloud), {args.shards} shards x {args.replicas} replicas, -Xmx{args.heap}, "
        "ExactStatsCache. Search: bench/latency.py's "
        f"{len(QUERIES)} queries x {args.rounds} rounds through `Searcher.search` (facets over "
        "the result set, snippets, the page's records from the store).",
        "",
        "| | Whoosh (baseline) | SolrCloud |",
        "|---|---|---|",
        f"| build (`ketlit reindex`), wall | {whoosh['build_s']:.0f} s "
        f"({n / whoosh['build_s']:.0f} records/s) | {solr['build_s']:.0f} s "
        f"({n / solr['build_s']:.0f} records/s) |",
        f"| build, CPU | {whoosh['cpu_s']:.0f} CPU-s ({w_rate:.0f} records/CPU-s) | "
        f"{s_cpu:.0f} CPU-s = {solr['py_cpu_s']:.0f} ketlit (analysis, JSON) + "
        f"{solr['java_cpu_s']:.0f} Solr, all {copies} replicas ({s_rate:.0f} records/CPU-s) |",
        f"| index size | {whoosh['index_bytes'] / 1e6:.0f} MB ({w_kb:.1f} KB/record) | "
        f"{solr['index_bytes'] / 1e6:.0f} MB for {copies} copies ({s_kb:.1f} KB/record/copy) |",
        f"| search p50 / p95 / max | {whoosh['p50']:.1f} / {whoosh['p95']:.1f} / "
        f"{whoosh['max']:.0f} ms | {solr['p50']:.1f} / {solr['p95']:.1f} / {solr['max']:.0f} ms |",
        "| memory | in ketlit's process | Solr nodes resident now / peak: " + ", ".join(
            f"{r:.0f} / {h:.0f} MB" for r, h in solr["node_mem"]) + " |",
        "",
        ("Every query's total was the same on both backends." if not differ else
         f"Totals that differed (Whoosh, Solr): {differ}."),
        "",
        "Projection from the per-record costs above (linear in records; the store, "
        f"{store_kb:.1f} KB/record, is on ketlit's machine with either backend):",
        "",
        "| records | Whoosh: build on 1 core, index | SolrCloud: build CPU, index (one copy) | "
        "shards (<= 25 GB and <= 10^7 records each) | memory per copy |",
        "|---|---|---|---|---|",
    ]
    for size in (1_000_000, 37_000_000):
        w_h = size / w_rate / 3600
        s_h = size / s_rate / 3600
        s_gb = size * s_kb / 1e6
        shards = max(1, int(-(-max(s_gb / 25, size / 1e7) // 1)))
        mem = s_gb / shards + 2  # page cache for a shard's index + a 2 GB heap
        lines.append(
            f"| {size:,} | {w_h:.1f} h, {size * w_kb / 1e6:.0f} GB | {s_h:.1f} CPU-h "
            f"({s_h / (2 * shards):.1f} h on {shards} two-core nodes), {s_gb:.0f} GB | {shards} | "
            f"{mem:.0f} GB per shard replica (index in page cache + 2 GB heap) |")
    lines += [
        "",
        f"Solr's build CPU counts all {copies} replicas (each indexes every document of its "
        "shard); ketlit's share is the analysis and JSON (the same analysis Whoosh's build runs). "
        "Search on Solr pays HTTP and the distributed two-phase query (ids, then counts and "
        "facets from both shards, ExactStatsCache's statistics round) even when tiny; it stays "
        "flat as records grow because each shard searches its own part on its own node, where "
        f"Whoosh's p95 grows with the index (bench/latency.py). The nodes' peak ({peak:.0f} MB "
        "here) is heap plus Lucene's memory-mapped index.",
        "",
        "Command:",
        "",
        "```",
        f"python bench/bench_backends.py --n {n} --rounds {args.rounds} --shards {args.shards} "
        f"--replicas {args.replicas} --heap {args.heap} --report",
        "```",
    ]
    return "## Whoosh and SolrCloud (bench_backends.py)\n\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
