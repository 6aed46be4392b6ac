"""Plain Whoosh, as its documentation sets it up: the baseline bench/relevance.py ranks against
(StemmingAnalyzer, BM25F defaults, an OR query over title and text). Not used by ketlit itself."""

from __future__ import annotations

from pathlib import Path

from whoosh import fields, index, qparser, scoring
from whoosh.analysis import StemmingAnalyzer


def plain_baseline(corpus: list[dict], queries: dict[str, str], tmp: Path) -> dict[str, list[str]]:
    """Plain Whoosh as documented: StemmingAnalyzer, BM25F defaults, OR query over two fields."""
    schema = fields.Schema(id=fields.ID(stored=True, unique=True),
                           title=fields.TEXT(analyzer=StemmingAnalyzer()),
                           text=fields.TEXT(analyzer=StemmingAnalyzer()))
    ix = index.create_in(str(tmp), schema)
    w = ix.writer(limitmb=256)
    for d in corpus:
        w.add_document(id=str(d["_id"]), title=d.get("title") or "", text=d.get("text") or "")
    w.commit()
    parser = qparser.MultifieldParser(["title", "text"], schema, group=qparser.OrGroup)
    parser.remove_plugin_class(qparser.FieldsPlugin)
    parser.remove_plugin_class(qparser.WildcardPlugin)
    run: dict[str, list[str]] = {}
    with ix.searcher(weighting=scoring.BM25F()) as s:
        for qid, text in queries.items():
            q = parser.parse(text)
            run[qid] = [h["id"] for h in s.search(q, limit=100)]
    return run
