"""Seeded generator of PubMed-like records for the latency benchmark.

Text comes from a word-bigram model trained on real biomedical abstracts (the SciFact corpus and
the shared PubMed records), so word frequencies, phrase structure and lengths are those of real
abstracts; titles and abstracts take their lengths from the same records. Ketamine-literature
phrases ("treatment-resistant depression", "NMDA receptor antagonist", "(R)-ketamine", "p <
0.05"...) are mixed in at the rates of a topic-focused collection, and metadata (years, types,
languages, topics, authors, journals, MeSH) follow the shapes of the shared records.

    python bench/generate.py N DATA_DIR [--seed 1]   # records into DATA_DIR's store + index
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.article import Article, Author, MeshHeading  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
SCIFACT = SHARED / "ir" / "scifact-train" / "corpus.jsonl"

DOMAIN_PHRASES = [
    "ketamine", "ketamine", "ketamine", "esketamine", "esketamine nasal spray",
    "treatment-resistant depression", "major depressive disorder", "NMDA receptor antagonist",
    "posttraumatic stress disorder", "PTSD", "obsessive-compulsive disorder", "OCD",
    "suicidal ideation", "rapid antidepressant effects", "(R)-ketamine", "arketamine",
    "(2R,6R)-HNK", "hydroxynorketamine", "5-HT2A receptor", "BDNF", "mTOR signaling",
    "IL-6", "COVID-19", "MADRS", "intravenous infusion", "0.5 mg/kg", "p < 0.05",
    "randomized controlled trial", "electroconvulsive therapy", "bipolar depression",
    "dissociative symptoms", "glutamate", "AMPA receptor", "Spravato", "placebo",
]
TITLE_STARTS = ["Ketamine", "Esketamine", "Ketamine", "Effects of ketamine on", "Arketamine",
                "Rapid antidepressant", "Intravenous ketamine for", "Esketamine nasal spray in"]
# The topics the generated records carry: a config over a generated collection names them, since
# searches filtered by an unconfigured topic are refused (issue 12: an unknown topic is an error).
TOPIC_NAMES = ("depression", "ptsd", "ocd")
TOPIC_SETS = [({"depression"}, 0.62), ({"ptsd"}, 0.12), ({"ocd"}, 0.06),
              ({"depression", "ptsd"}, 0.12), ({"depression", "ocd"}, 0.05),
              ({"depression", "ptsd", "ocd"}, 0.03)]
PUBTYPES = [("Randomized Controlled Trial", 0.06), ("Review", 0.16), ("Systematic Review", 0.04),
            ("Meta-Analysis", 0.03), ("Clinical Trial", 0.05), ("Case Reports", 0.05),
            ("Letter", 0.03), ("Comparative Study", 0.06), ("Observational Study", 0.03),
            ("Research Support, Non-U.S. Gov't", 0.3), ("Research Support, N.I.H., Extramural", 0.1)]
LANGS = [("eng", 0.94), ("chi", 0.015), ("ger", 0.01), ("fre", 0.01), ("spa", 0.01),
         ("jpn", 0.005), ("rus", 0.005), ("ita", 0.005)]
_WORD = re.compile(r"\S+")


class Model:
    """Bigram successors and length samples from real abstracts."""

    def __init__(self) -> None:
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        self.title_lengths: list[int] = []
        self.abstract_lengths: list[int] = []
        self.authors: list[Author] = []
        self.journals: list[tuple[str, str | None]] = []
        self.mesh: list[str] = []
        self.keywords: list[str] = []

    def learn(self, title: str | None, abstract: str | None) -> None:
        for text, lengths in ((title, self.title_lengths), (abstract, self.abstract_lengths)):
            if not text:
                continue
            words = _WORD.findall(text)
            lengths.append(len(words))
            if not words:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, words[1:], strict=False):
                self.next[a].append(b)

    def text(self, rng: random.Random, n: int, start: str | None = None) -> str:
        words: list[str] = []
        w = start or rng.choice(self.starts)
        while len(words) < n:
            words.append(w)
            succ = self.next.get(w)
            w = rng.choice(succ) if succ else rng.choice(self.starts)
        return " ".join(words)


def build_model() -> Model:
    from harvester.parse import iter_pubmed

    m = Model()
    if SCIFACT.exists():
        with SCIFACT.open(encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                m.learn(d.get("title"), d.get("text"))
    for path in sorted((SHARED / "pubmed" / "efetch-xml").rglob("*.xml")):
        for art in iter_pubmed(path):
            if not isinstance(art, Article):
                continue
            m.learn(art.title, art.abstract)
            m.authors.extend(a for a in art.authors if a.last)
            if art.journal:
                m.journals.append((art.journal, art.journal_iso))
            m.mesh.extend(art.mesh_terms)
            m.keywords.extend(art.keywords)
    if not m.starts:
        raise SystemExit("no training text found under ../shared/data")
    return m


def _pick(rng: random.Random, weighted: list[tuple[object, float]]) -> object:
    r = rng.random() * sum(w for _v, w in weighted)
    for v, w in weighted:
        r -= w
        if r <= 0:
            return v
    return weighted[-1][0]


def generate(n: int, seed: int = 1, model: Model | None = None) -> Iterator[Article]:
    rng = random.Random(seed)
    m = model or build_model()
    for i in range(n):
        tlen = max(4, min(40, rng.choice(m.title_lengths)))
        title = m.text(rng, tlen, start=rng.choice(TITLE_STARTS) if rng.random() < 0.45 else None)
        title = title.rstrip(".") + "."
        abstract: str | None = None
        if rng.random() < 0.88:
            alen = max(30, min(600, rng.choice(m.abstract_lengths)))
            words = m.text(rng, alen).split()
            for _ in range(rng.randint(1, 5)):
                words.insert(rng.randrange(len(words) + 1), rng.choice(DOMAIN_PHRASES))
            abstract = " ".join(words)
        year = min(2025, max(1965, int(rng.triangular(1965, 2026, 2024))))
        types = ["Journal Article"] + [t for t, p in PUBTYPES if rng.random() < p]
        authors = [rng.choice(m.authors) for _ in range(rng.randint(1, 12))] if m.authors else []
        journal, iso = rng.choice(m.journals) if m.journals else ("Journal", None)
        mesh = [MeshHeading(d, rng.random() < 0.3) for d in
                rng.sample(m.mesh, min(len(m.mesh), rng.randint(0, 14)))] if m.mesh else []
        if mesh and rng.random() < 0.7:
            mesh.append(MeshHeading("Ketamine", True))
        kws = rng.sample(m.keywords, min(len(m.keywords), rng.randint(0, 6))) if m.keywords else []
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        yield Article(
            pmid=str(10_000_000 + i), title=title, abstract=abstract, authors=authors,
            journal=journal, journal_iso=iso, pub_year=year,
            epub_date=f"{year}-{month:02d}-{day:02d}" if year >= 2000 else None,
            entrez_date=f"{year}-{month:02d}-{day:02d}", languages=[_pick(rng, LANGS)],
            publication_types=types, mesh=mesh, keywords=kws,
            topics=set(_pick(rng, TOPIC_SETS)), retracted=rng.random() < 0.002)


def write_collection(n: int, data_dir: Path, seed: int = 1, model: Model | None = None,
                     progress: bool = True) -> dict[str, float]:
    """Generate n records into data_dir's record store and build its index (as reindex does)."""
    from index.settings import settings_from_mapping
    from index.store import ORIGIN_INGEST, RecordStore
    from index.whoosh.writer import rebuild_index

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_from_mapping({"data_dir": str(data_dir)}, data_dir)
    t0 = time.perf_counter()
    store = RecordStore(settings.store_path)
    try:
        batch: list[Article] = []
        for art in generate(n, seed, model):
            batch.append(art)
            if len(batch) == 2000:
                with store.transaction():
                    for a in batch:
                        store.upsert([a], origin=ORIGIN_INGEST, extra_topics=a.topics)
                batch = []
        if batch:
            with store.transaction():
                for a in batch:
                    store.upsert([a], origin=ORIGIN_INGEST, extra_topics=a.topics)
    finally:
        store.close()
    t1 = time.perf_counter()
    rebuild_index(settings, progress=progress)
    t2 = time.perf_counter()
    return {"generate_store_s": t1 - t0, "index_s": t2 - t1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    times = write_collection(args.n, args.data_dir, args.seed)
    print(f"{args.n} records into {args.data_dir}: store {times['generate_store_s']:.1f}s, "
          f"index {times['index_s']:.1f}s")


if __name__ == "__main__":
    main()
