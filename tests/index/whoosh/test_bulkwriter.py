"""TermPoolWriter writes the segment files Whoosh's SegmentWriter writes, byte for byte."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from whoosh import fields, query
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from index.article import Article, Author, MeshHeading
from index.whoosh.bulkwriter import TermPoolWriter, supports
from index.whoosh.schema import article_to_document, build_schema

WORDS = [
    "ketamine", "esketamine", "depression", "treatment-resistant", "NMDA", "receptor", "5-HT2A",
    "IL-6", "randomized", "trial", "placebo", "suicidal", "ideation", "(R)-ketamine", "p", "<",
    "0.05", "infusion", "response", "remission", "MADRS", "glutamate", "BDNF", "mTOR", "synaptic",
    "PTSD", "OCD",
]


def _articles(n: int, seed: int = 3) -> list[Article]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(Article(
            pmid=str(1000 + i),
            title=" ".join(rnd.choices(WORDS, k=rnd.randint(3, 12))),
            # Long enough that common words fill several 128-posting blocks.
            abstract=" ".join(rnd.choices(WORDS, k=rnd.randint(0, 120))) or None,
            keywords=rnd.sample(WORDS, 3),
            mesh=[MeshHeading(rnd.choice(WORDS), bool(i % 2), (("drug therapy", False),))],
            authors=[Author(last=f"Name{i % 17}", fore="Ann", initials="A")],
            journal=rnd.choice(["J Affect Disord", "Biol Psychiatry"]),
            pub_year=2000 + i % 25, publication_types=["Journal Article"],
            topics={"depression"} if i % 3 else {"ptsd"}))
    return out


def _build(directory: Path, writer_class: type, batches: list[list[Article]]) -> None:
    directory.mkdir()
    ix = whoosh_index.create_in(str(directory), build_schema())
    for batch in batches:
        writer = writer_class(ix, compound=False)
        for article in batch:
            # update_document: repeated PMIDs delete older versions, so merges renumber.
            writer.update_document(**article_to_document(article, analysed=True))
        writer.commit()
    ix.close()


def _segment_files(directory: Path) -> list[tuple[str, str]]:
    """(file kind, content digest) of every segment file; segment names are random."""
    out = []
    for f in directory.iterdir():
        if f.suffix == ".toc" or "WRITELOCK" in f.name:
            continue
        kind = f.suffix if f.suffix != ".col" else f.name.split(".", 1)[1]
        out.append((kind, hashlib.sha256(f.read_bytes()).hexdigest()))
    return sorted(out)


def test_one_batch_gives_identical_files(tmp_path: Path) -> None:
    docs = _articles(300)
    _build(tmp_path / "whoosh", SegmentWriter, [docs])
    _build(tmp_path / "pool", TermPoolWriter, [docs])
    files = _segment_files(tmp_path / "whoosh")
    assert any(kind == ".pst" for kind, _ in files)
    assert _segment_files(tmp_path / "pool") == files


def _revised(article: Article) -> Article:
    return Article(**{**article.__dict__, "title": "revised " + (article.title or "")})


def test_commits_with_merges_and_updates_give_identical_files(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    docs = _articles(400)
    # Each batch also re-adds three records of earlier batches (deleting their old copies), and
    # small batches make MERGE_SMALL merge segments, with deletions, into the pool.
    batches = [docs[i:i + 25] + [_revised(a) for a in docs[i // 25 * 3 - 3:i // 25 * 3]]
               for i in range(0, len(docs), 25)]
    merged: list[bool] = []
    pool_reader = TermPoolWriter.add_postings_to_pool

    def spy(self: TermPoolWriter, reader: object, startdoc: int, docmap: object) -> None:
        merged.append(docmap is not None)
        pool_reader(self, reader, startdoc, docmap)

    monkeypatch.setattr(TermPoolWriter, "add_postings_to_pool", spy)
    _build(tmp_path / "whoosh", SegmentWriter, batches)
    _build(tmp_path / "pool", TermPoolWriter, batches)
    assert True in merged  # a merged segment had deletions
    assert _segment_files(tmp_path / "pool") == _segment_files(tmp_path / "whoosh")
    ix = whoosh_index.open_dir(str(tmp_path / "pool"))
    with ix.searcher() as s:
        assert s.doc_count() == 400
        assert len(s.search(query.Term("title", "revis"), limit=None)) == 45
    ix.close()


def test_pool_counts_postings(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = TermPoolWriter(ix)
    doc = article_to_document(_articles(1)[0], analysed=True)
    writer.add_document(**doc)
    assert writer.pooled > sum(len(v) for v in doc.values() if isinstance(v, list))
    writer.cancel()
    ix.close()


@pytest.mark.parametrize(("field", "ok"), [
    (fields.TEXT(), True), (fields.TEXT(vector=True), False), (fields.TEXT(spelling=True), True),
])
def test_supports_only_schemas_without_vectors(field: fields.FieldType, ok: bool) -> None:
    assert supports(fields.Schema(id=fields.ID(), body=field)) is ok
