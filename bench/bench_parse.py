"""Parse throughput of harvester.parse.iter_pubmed on ~20,000 replicated real PubMed records.

Every PubmedArticle/PubmedBookArticle of ../shared/data/pubmed/efetch-xml is replicated under new
PMIDs into one in-memory PubmedArticleSet (and a gzip file), then parsed three ways in the same run:
a bare lxml.iterparse walk that only clears elements (the baseline: the cost of reading the XML),
iter_pubmed from bytes, and iter_pubmed from a .gz path. Prints records/s and peak memory (the
max RSS of a fresh process streaming 1/4 of the set and the full set: constant memory means equal
peaks) and writes them to the "parse" section of bench/README.md.

    python bench/bench_parse.py [--records 20000] [--no-write]
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.report import write_section  # noqa: E402
from harvester.parse import iter_pubmed  # noqa: E402
from tests.helpers import EFETCH_XML  # noqa: E402


def real_records() -> list[bytes]:
    out: list[bytes] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for path in sorted(EFETCH_XML.rglob("*.xml")):
        root = etree.parse(str(path), parser).getroot()
        for rec in root:
            if rec.tag in ("PubmedArticle", "PubmedBookArticle"):
                rec.tail = "\n"
                out.append(etree.tostring(rec, encoding="utf-8"))
    return out


def build(records: list[bytes], n: int) -> bytes:
    parts = [b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n']
    for i in range(n):
        rec = records[i % len(records)]
        # new PMID for every copy so the set looks like n distinct records
        start = rec.index(b"<PMID")
        gt = rec.index(b">", start) + 1
        end = rec.index(b"</PMID>", gt)
        parts.append(rec[:gt] + str(90_000_000 + i).encode() + rec[end:])
    parts.append(b"</PubmedArticleSet>\n")
    return b"".join(parts)


def bare_iterparse(data: bytes) -> int:
    import io
    n = 0
    for _, el in etree.iterparse(io.BytesIO(data), events=("end",),
                                 tag=("PubmedArticle", "PubmedBookArticle"),
                                 resolve_entities=False, no_network=True, load_dtd=False):
        n += 1
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del el.getparent()[0]
    return n


def timed(fn, *args) -> tuple[int, float, float]:
    """(result, wall seconds, CPU seconds of this process). CPU time is the figure that holds up
    when other jobs share the 2 cores; wall time is what a user waits."""
    t0, c0 = time.perf_counter(), time.process_time()
    n = fn(*args)
    return n, time.perf_counter() - t0, time.process_time() - c0


def count(source) -> int:
    return sum(1 for _ in iter_pubmed(source))


def child_peak_rss_mb(path: Path) -> tuple[int, float]:
    """Stream ``path`` through iter_pubmed in a fresh process; (records, its peak RSS in MB).

    VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from the parent's peak, which here
    holds the whole in-memory test document."""
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            "from harvester.parse import iter_pubmed; from bench.report import peak_rss_mb; "
            "n = sum(1 for _ in iter_pubmed(sys.argv[1])); "
            "print(n, peak_rss_mb())")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1])



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--no-write", action="store_true", help="print only, leave bench/README.md")
    args = ap.parse_args()
    n = args.records
    records = real_records()
    data = build(records, n)
    lines = [f"{len(records)} real records replicated under new PMIDs to {n} "
             f"({len(data) / 1e6:.0f} MB of XML)"]

    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "set.xml.gz"
        gz.write_bytes(gzip.compress(data, compresslevel=6))
        small_gz = Path(tmp) / "small.xml.gz"
        small_gz.write_bytes(gzip.compress(build(records, n // 4), compresslevel=6))

        nb, tb, cb = timed(bare_iterparse, data)
        np_, tp, cp = timed(count, data)
        ng, tg, cg = timed(count, gz)
        assert nb == np_ == ng == n, (nb, np_, ng, n)
        n_small, rss_small = child_peak_rss_mb(small_gz)
        n_full, rss_full = child_peak_rss_mb(gz)
        assert (n_small, n_full) == (n // 4, n)
    load = os.getloadavg()[0]
    lines += [
        "",
        "| measure | records/s (wall) | records per CPU-second |",
        "|---|---|---|",
        f"| baseline: bare lxml iterparse, no field extraction | {nb / tb:,.0f} | {nb / cb:,.0f} |",
        f"| iter_pubmed from bytes (an efetch answer) | {np_ / tp:,.0f} | {np_ / cp:,.0f} |",
        f"| iter_pubmed from a .xml.gz path (ingest) | {ng / tg:,.0f} | {ng / cg:,.0f} |",
        f"| iter_pubmed / baseline | {tb / tp:.2f} | {cb / cp:.2f} |",
        "",
        "| memory | peak RSS |",
        "|---|---|",
        f"| fresh process streaming {n // 4:,} records from .xml.gz | {rss_small:.0f} MB |",
        f"| fresh process streaming {n:,} records from .xml.gz | {rss_full:.0f} MB |",
        "",
        f"Target: at least 3,000 records/s. Load average during the run: {load:.1f} on "
        f"{os.cpu_count()} CPUs: wall rates include the time this process waited for a CPU "
        "while other jobs ran; records per CPU-second is the parser's own speed, and equals the "
        "wall rate on an idle machine. Peak RSS is the whole Python process (interpreter, lxml, "
        "the parser); equal peaks for n/4 and n records mean memory does not grow with the file.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("parse", "## Parse (harvester.parse.iter_pubmed)\n\n`python bench/bench_parse.py "
                      f"--records {n}` ({time.strftime('%Y-%m-%d')})\n\n" + text)


if __name__ == "__main__":
    main()
