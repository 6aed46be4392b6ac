"""Ranking quality on a BEIR-layout collection, through ketlit's own index and CLI.

    python bench/relevance.py ../shared/data/ir/scifact-train --split train [--report]
    python bench/relevance.py ../shared/data/ir/scifact-train --split train --rank hybrid [--report]

1. every corpus document becomes an Article (title, abstract) in a fresh data dir's record store,
   and the index is built from it with ``rebuild_index`` (what ``ketlit reindex`` runs);
2. the split's queries go to ``ketlit search --batch FILE --match any --limit 100`` (the real
   console script, default settings);
3. nDCG@10 and Recall@100 against the split's qrels.

With ``--rank hybrid`` the corpus is also embedded into the embedding store (what harvest, ingest
and reindex keep), the same queries run again with ``--rank hybrid`` through the CLI, and the
fusion weight is swept in process over the same lexical top 100 and cosines (min-max and z-score
normalisation): the sweep chose search/hybrid.py's WEIGHT. Its report goes to the
"relevance-hybrid" section.

Baseline, measured in the same run: plain Whoosh (StemmingAnalyzer, BM25F defaults, title and
text fields, OR query) over the same documents. ``--report`` writes the figures into the
"relevance" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import write_section  # noqa: E402
from index.article import Article  # noqa: E402
from index.settings import settings_from_mapping  # noqa: E402
from index.store import ORIGIN_INGEST, RecordStore  # noqa: E402
from index.whoosh.plain import plain_baseline  # noqa: E402
from index.whoosh.writer import rebuild_index  # noqa: E402


def load_beir(beir: Path, split: str) -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    corpus = [json.loads(line) for line in (beir / "corpus.jsonl").open(encoding="utf-8")]
    queries = {}
    for line in (beir / "queries.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        queries[str(q["_id"])] = q["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (beir / "qrels" / f"{split}.tsv").open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")
            qrels[qid][did] = int(score)
    return corpus, {q: queries[q] for q in qrels if q in queries}, dict(qrels)


def ndcg_at(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int = 10) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        ranked = run.get(qid, [])[:k]
        dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked))
        ideal = sorted(rels.values(), reverse=True)[:k]
        idcg = sum((2 ** r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
        total += dcg / idcg if idcg else 0.0
    return total / len(qrels)


def recall_at(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int = 100) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        relevant = {d for d, r in rels.items() if r > 0}
        got = set(run.get(qid, [])[:k])
        total += len(relevant & got) / len(relevant) if relevant else 0.0
    return total / len(qrels)


def parse_trec(text: str) -> dict[str, list[str]]:
    run: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in text.splitlines():
        qid, _q0, did, rank, _score, _tag = line.split()
        run[qid].append((int(rank), did))
    return {q: [d for _r, d in sorted(v)] for q, v in run.items()}


def doc_to_article(doc: dict) -> Article:
    return Article(pmid=str(doc["_id"]), title=doc.get("title") or None,
                   abstract=doc.get("text") or None)


def build_ketlit(data_dir: Path, corpus: list[dict]) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "config.yaml"
    config.write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    settings = settings_from_mapping({"data_dir": str(data_dir)}, data_dir)
    store = RecordStore(settings.store_path)
    try:
        with store.transaction():
            store.upsert((doc_to_article(d) for d in corpus), origin=ORIGIN_INGEST)
    finally:
        store.close()
    rebuild_index(settings)
    return config


def run_ketlit_batch(config: Path, queries: dict[str, str], limit: int = 100,
                     rank: str = "lexical") -> str:
    qfile = config.parent / "queries.tsv"
    qfile.write_text("".join(f"{q}\t{' '.join(t.split())}\n" for q, t in queries.items()),
                     encoding="utf-8")
    exe = Path(sys.executable).parent / "ketlit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "search.cli"]
    proc = subprocess.run(cmd + ["--config", str(config), "search", "--batch", str(qfile),
                                 "--match", "any", "--limit", str(limit), "--format", "trec",
                                 "--rank", rank],
                          capture_output=True, text=True, cwd=str(REPO), check=False)
    if proc.returncode != 0:
        raise SystemExit(f"ketlit search --batch failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


ABLATIONS: list[tuple[str, dict]] = [
    ("default", {}),
    ("no title bonus (record text only)", {"fields": {"text": 1.0}}),
    ("title bonus 0.5", {"fields": {"text": 1.0, "title": 0.5}}),
    ("per-field BM25 sum: title 0.5 + abstract", {"fields": {"title": 0.5, "abstract": 1.0}}),
    ("no synonym expansion", {"synonyms": 0.0}),
    ("proximity pairs (slop 3, weight 0.3)", {"proximity": 0.3}),
    ("BM25 k1=0.9 b=0.4 (Pyserini's BEIR setting)", {"k1": 0.9, "b": 0.4}),
]


def run_ablations(config: Path, queries: dict[str, str],
                  qrels: dict[str, dict[str, int]]) -> list[tuple[str, float, float]]:
    """In-process variants of the default method on the same index (same queries, qrels)."""
    from index.settings import load_settings
    from search.searcher import Searcher, SearchRequest

    rows = []
    settings = load_settings(config)
    for name, opts in ABLATIONS:
        with Searcher(settings) as s:
            if "fields" in opts:
                s.builder.default_fields = opts["fields"]
            if "synonyms" in opts:
                s.builder.synonym_boost = opts["synonyms"]
            if "proximity" in opts:
                s.builder.proximity_weight = opts["proximity"]
            engine = s.backend.engine  # type: ignore[attr-defined]  (the Whoosh backend's)
            engine.k1 = opts.get("k1", engine.k1)
            engine.b = opts.get("b", engine.b)
            run = {qid: [p for p, _ in s.rank(SearchRequest(" ".join(t.split()), match="any",
                                                            limit=100))]
                   for qid, t in queries.items()}
        rows.append((name, ndcg_at(run, qrels), recall_at(run, qrels)))
        print(f"  {name:<48} nDCG@10 {rows[-1][1]:.4f}  Recall@100 {rows[-1][2]:.4f}",
              flush=True)
    return rows



def embed_corpus(config: Path, corpus: list[dict], cache: Path | None) -> tuple[float, float]:
    """Fill the data dir's embedding store with every document (title + abstract), as index-time
    embedding does. ``cache``: a store file from an earlier run of the same corpus, copied in
    instead of embedding again. Returns (seconds, records per second) of the embedding."""
    import shutil

    import numpy as np

    from index.embeddings.model import Embedder, record_text
    from index.embeddings.store import EmbeddingStore
    from index.settings import load_settings
    from search.hybrid import embeddings_dir

    settings = load_settings(config)
    embedder = Embedder()
    store = EmbeddingStore(embeddings_dir(settings), embedder.digest)
    if cache is not None and cache.exists():
        store.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, store.path)
        print(f"embeddings: copied from {cache}")
        return 0.0, 0.0
    ids = [str(d["_id"]) for d in corpus]
    texts = [record_text(d.get("title"), d.get("text")) for d in corpus]
    t0 = time.perf_counter()
    vecs = np.zeros((len(ids), 384), np.float32)
    step = 256
    for i in range(0, len(ids), step):
        vecs[i:i + step] = embedder.encode(texts[i:i + step])
        done = min(i + step, len(ids))
        rate = done / (time.perf_counter() - t0)
        print(f"\r  embedded {done}/{len(ids)} ({rate:.1f}/s)", end="", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)
    dt = time.perf_counter() - t0
    store.put(ids, texts, vecs)
    store.save()
    if cache is not None:
        shutil.copyfile(store.path, cache)
    return dt, len(ids) / dt


SWEEP = [round(0.1 * i, 1) for i in range(11)]


def weight_sweep(config: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]
                 ) -> list[tuple[str, float, float, float]]:
    """nDCG@10 / Recall@100 of the fusion at each weight, over the same lexical top 100 and
    cosines (computed once), for min-max and z-score normalisation."""
    import numpy as np

    from index.settings import load_settings
    from search.hybrid import query_text
    from search.searcher import Searcher, SearchRequest

    settings = load_settings(config)
    per_query: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    with Searcher(settings) as s:
        emb = s.hybrid.embeddings
        texts = {qid: query_text(" ".join(t.split())) for qid, t in queries.items()}
        qids = list(texts)
        qvecs = emb.embedder.encode([texts[q] for q in qids])
        for qid, qv in zip(qids, qvecs, strict=True):
            top = s.rank(SearchRequest(" ".join(queries[qid].split()), match="any", limit=100,
                                       rank="lexical"))
            ids = [p for p, _ in top]
            have, vecs = emb.vectors(ids, s.store)
            cos_of = dict(zip(have, (vecs @ qv).tolist(), strict=True))
            per_query[qid] = (ids, np.array([sc or 0.0 for _, sc in top]),
                              np.array([cos_of.get(p, 0.0) for p in ids]))

    def norm(x: np.ndarray, how: str) -> np.ndarray:
        if x.size == 0:
            return x
        if how == "minmax":
            lo, hi = x.min(), x.max()
            return np.zeros_like(x) if hi - lo < 1e-12 else (x - lo) / (hi - lo)
        sd = x.std()
        return np.zeros_like(x) if sd < 1e-12 else (x - x.mean()) / sd

    rows = []
    for how in ("minmax", "zscore"):
        for w in SWEEP:
            run = {}
            for qid, (ids, lex, cos) in per_query.items():
                f = (1 - w) * norm(lex, how) + w * norm(cos, how)
                order = sorted(range(len(ids)), key=lambda i, f=f: (-f[i], i))
                run[qid] = [ids[i] for i in order]
            rows.append((how, w, ndcg_at(run, qrels), recall_at(run, qrels)))
            print(f"  {how:<7} weight {w:.1f}: nDCG@10 {rows[-1][2]:.4f}  "
                  f"Recall@100 {rows[-1][3]:.4f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("beir_dir", type=Path)
    ap.add_argument("--split", default="train")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--ablations", action="store_true",
                    help="also score variants of the method (field weights, synonyms, proximity)")
    ap.add_argument("--report", action="store_true", help="write the figures to bench/README.md")
    ap.add_argument("--rank", choices=["lexical", "hybrid"], default="lexical",
                    help="hybrid: also embed the corpus, run --rank hybrid and sweep the weight")
    ap.add_argument("--embeddings-cache", type=Path,
                    help="a store file of this corpus's embeddings from an earlier run (read "
                         "when present, written otherwise)")
    args = ap.parse_args()

    corpus, queries, qrels = load_beir(args.beir_dir, args.split)
    print(f"{len(corpus)} documents, {len(queries)} queries, split {args.split}")
    with tempfile.TemporaryDirectory(prefix="ketlit-relevance-") as tmp_s:
        tmp = Path(tmp_s)
        t0 = time.perf_counter()
        config = build_ketlit(tmp / "ketlit", corpus)
        t_index = time.perf_counter() - t0
        t0 = time.perf_counter()
        run = parse_trec(run_ketlit_batch(config, queries))
        t_search = time.perf_counter() - t0
        nd, rc = ndcg_at(run, qrels), recall_at(run, qrels)
        print(f"ketlit:         nDCG@10 {nd:.4f}  Recall@100 {rc:.4f}  "
              f"(index {t_index:.1f}s, {len(queries)} queries via the CLI {t_search:.1f}s)")
        rows = [("ketlit (default settings, `--match any`)", nd, rc)]
        ablations = run_ablations(config, queries, qrels) if args.ablations else []
        if args.rank == "hybrid":
            t_embed, rate = embed_corpus(config, corpus, args.embeddings_cache)
            if rate:
                print(f"embedding: {len(corpus)} records in {t_embed:.0f}s ({rate:.1f}/s)")
            t0 = time.perf_counter()
            hrun = parse_trec(run_ketlit_batch(config, queries, rank="hybrid"))
            t_hyb = time.perf_counter() - t0
            hnd, hrc = ndcg_at(hrun, qrels), recall_at(hrun, qrels)
            print(f"ketlit hybrid:  nDCG@10 {hnd:.4f}  Recall@100 {hrc:.4f}  "
                  f"({len(queries)} queries via the CLI {t_hyb:.1f}s)")
            print("fusion sweep (weight of the cosine):")
            sweep = weight_sweep(config, queries, qrels)
            write_hybrid_report(args, corpus, queries, (nd, rc), (hnd, hrc), sweep,
                                (t_search, t_hyb, t_embed, rate))
        if not args.no_baseline:
            (tmp / "whoosh").mkdir()
            base = plain_baseline(corpus, queries, tmp / "whoosh")
            bnd, brc = ndcg_at(base, qrels), recall_at(base, qrels)
            print(f"plain Whoosh:   nDCG@10 {bnd:.4f}  Recall@100 {brc:.4f}")
            rows.append(("plain Whoosh BM25F baseline (same run)", bnd, brc))
    if args.report and args.rank == "lexical":
        name = args.beir_dir.name
        lines = [
            f"Collection `{name}`, split `{args.split}`: {len(corpus)} documents, "
            f"{len(queries)} queries. Measured {time.strftime('%Y-%m-%d')} on this machine.",
            "",
            "| run | nDCG@10 | Recall@100 |",
            "|---|---|---|",
            *[f"| {r} | {a:.4f} | {b:.4f} |" for r, a, b in rows],
            "",
        ]
        if ablations:
            lines += [
                "Variants of the method on the same index (in process, same queries):",
                "",
                "| variant | nDCG@10 | Recall@100 |",
                "|---|---|---|",
                *[f"| {r} | {a:.4f} | {b:.4f} |" for r, a, b in ablations],
                "",
            ]
        flags = " --ablations" if args.ablations else ""
        lines += [
            "Command:",
            "",
            "```",
            f"python bench/relevance.py {os.path.relpath(args.beir_dir, REPO)} --split "
            f"{args.split}{flags} --report",
            "```",
        ]
        write_section("relevance", "\n".join(["## Ranking quality", "", *lines, "",
                                               *NOTES.strip().splitlines()]))
        print("wrote bench/README.md (relevance)")


def write_hybrid_report(args: argparse.Namespace, corpus: list[dict], queries: dict[str, str],
                        lexical: tuple[float, float], hybrid_: tuple[float, float],
                        sweep: list[tuple[str, float, float, float]],
                        times: tuple[float, float, float, float]) -> None:
    from search.hybrid import WEIGHT

    best = max(sweep, key=lambda r: r[2])
    print(f"best on this split: {best[0]} weight {best[1]:.1f} (nDCG@10 {best[2]:.4f}); "
          f"shipped: minmax weight {WEIGHT}")
    if not args.report:
        return
    t_lex, t_hyb, t_embed, rate = times
    lines = [
        "## Hybrid ranking (issue 15)",
        "",
        f"Collection `{args.beir_dir.name}`, split `{args.split}`: {len(corpus)} documents, "
        f"{len(queries)} queries, lexical and hybrid in the same run "
        f"({time.strftime('%Y-%m-%d')}, this machine). Both through "
        "`ketlit search --batch Q --match any --limit 100 --format trec --rank ...`.",
        "",
        "| run | nDCG@10 | Recall@100 | CLI time, all queries |",
        "|---|---|---|---|",
        f"| `--rank lexical` | {lexical[0]:.4f} | {lexical[1]:.4f} | {t_lex:.0f} s |",
        f"| `--rank hybrid` (min-max, weight {WEIGHT}) | {hybrid_[0]:.4f} | {hybrid_[1]:.4f} "
        f"| {t_hyb:.0f} s |",
        "",
        "The fusion weight (share of the cosine; the rest goes to BM25), swept in process over the "
        "same lexical top 100 and cosines; the weight was chosen from this table only "
        "(training split; the held-out collections were not seen):",
        "",
        "| normalisation | " + " | ".join(f"{w:.1f}" for w in SWEEP) + " |",
        "|---|" + "---|" * len(SWEEP),
    ]
    for how in ("minmax", "zscore"):
        cells = [f"{r[2]:.4f}" for r in sweep if r[0] == how]
        lines.append(f"| {how} nDCG@10 | " + " | ".join(cells) + " |")
    for how in ("minmax", "zscore"):
        cells = [f"{r[3]:.4f}" for r in sweep if r[0] == how]
        lines.append(f"| {how} Recall@100 | " + " | ".join(cells) + " |")
    lines += ["", f"Best cell: {best[0]} at {best[1]:.1f} (nDCG@10 {best[2]:.4f}).", ""]
    if rate:
        lines += [f"Embedding the corpus (title + abstract, numpy forward pass): "
                  f"{t_embed:.0f} s, {rate:.1f} records/s on this machine's 2 cores while "
                  "other work ran.", ""]
    lines += ["Command:", "", "```",
              f"python bench/relevance.py {os.path.relpath(args.beir_dir, REPO)} --split "
              f"{args.split} --rank hybrid --report", "```", "", *HYBRID_NOTES.strip().splitlines()]
    write_section("relevance-hybrid", "\n".join(lines))
    print("wrote bench/README.md (relevance-hybrid)")


HYBRID_NOTES = """
Weight 0 is the lexical ranking itself (min-max is monotone) and weight 1 orders the lexical top
100 by cosine alone. Recall@100 does not move with the weight: the fusion reorders the lexical top
100 and adds nothing to it (only a search that matches nothing falls back to the nearest records
by embedding).
"""


NOTES = """
Method (all defaults, nothing fitted per query): each record is indexed as one `text` field
(title, abstract, keywords, MeSH) plus its title; a query word scores BM25 (k1 1.2, b 0.75,
Lucene's idf) on `text` plus 0.2 x BM25 on the title; analysis keeps biomedical tokens whole
(joined + parts for hyphenated words, stereo descriptors, p-values), folds case, accents and
Greek letters, and stems with Porter2 except for words it would merge with unrelated ones;
vocabulary synonyms are added at half weight. Scoring runs over Whoosh's postings with numpy
(index/whoosh/engine.py).

Measured while developing (same split, in process): inflection-only stemming 0.6850 vs
Porter2 0.6966 (the largest single gain); Whoosh's own BM25F scoring of the same queries
0.6763 vs 0.6850 with Lucene's idf. Proximity pairs (adjacent query words near each other)
lowered nDCG@10 here (claims paraphrase their abstracts), so they are off by default; synonym
expansion does not change this collection's figures and stays for what it does for
abbreviations in ketamine queries (tests/search).
Field weights were chosen on this training split, from a flat region (title bonus 0.15-0.3 all
within 0.002); the held-out split has not been seen.
"""


if __name__ == "__main__":
    main()
