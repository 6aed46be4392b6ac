"""Parse throughput of harvester.parse.iter_pubmed on ~20,000 replicated real PubMed records.

Every PubmedArticle/PubmedBookArticle of ../shared/data/pubmed/efetch-xml is replicated under new
PMIDs into one in-memory PubmedArticleSet (and a gzip file), then parsed three ways in the same run:
a bare lxml.iterparse walk that only clears elements (the baseline: the cost of reading the XML),
iter_pubmed from bytes, and iter_pubmed from a .gz path. Prints records/s and peak memory (RSS
growth is measured by parsing 1/4 of the set and the full set: constant memory means equal peaks).

    python bench/bench_parse.py [--records 20000]
"""

from __future__ import annotations

import argparse
import gzip
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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


def timed(fn, *args) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = fn(*args)
    return n, time.perf_counter() - t0


def count(source) -> int:
    return sum(1 for _ in iter_pubmed(source))


def peak_python_bytes(source) -> int:
    tracemalloc.start()
    count(source)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    n = ap.parse_args().records
    records = real_records()
    data = build(records, n)
    print(f"{len(records)} real records replicated to {n} ({len(data) / 1e6:.1f} MB XML)")

    with tempfile.TemporaryDirectory() as tmp:
        gz = Path(tmp) / "set.xml.gz"
        gz.write_bytes(gzip.compress(data, compresslevel=6))
        small_gz = Path(tmp) / "small.xml.gz"
        small_gz.write_bytes(gzip.compress(build(records, n // 4), compresslevel=6))

        nb, tb = timed(bare_iterparse, data)
        np_, tp = timed(count, data)
        ng, tg = timed(count, gz)
        assert nb == np_ == ng == n, (nb, np_, ng, n)
        print(f"baseline lxml iterparse (no field extraction): {nb / tb:8.0f} records/s")
        print(f"iter_pubmed from bytes:                        {np_ / tp:8.0f} records/s")
        print(f"iter_pubmed from .xml.gz path:                 {ng / tg:8.0f} records/s")
        print(f"iter_pubmed / baseline:                        {tb / tp:8.2f}")
        # Peak traced Python+lxml allocations while streaming a file: constant memory means the
        # peak for n records is about the peak for n/4.
        p_small = peak_python_bytes(small_gz)
        p_full = peak_python_bytes(gz)
        print(f"peak traced memory streaming {n // 4:>6} records: {p_small / 1e6:6.2f} MB")
        print(f"peak traced memory streaming {n:>6} records: {p_full / 1e6:6.2f} MB")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB "
          f"(includes the in-memory test document)")


if __name__ == "__main__":
    main()
