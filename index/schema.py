"""The Whoosh schema and the Article -> document mapping.

The index is derived data: the record store holds every Article, and ``ketlit reindex`` rebuilds
the index from it, so any change here is applied by reindex, never by re-downloading. Bump
SCHEMA_VERSION whenever fields or analysis change; an index built with another version is
reported as needing ``ketlit reindex``.
"""

from __future__ import annotations

from typing import Any

from whoosh import fields

from index.article import Article

SCHEMA_VERSION = 1


def build_schema() -> fields.Schema:
    return fields.Schema(
        pmid=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=False),
        abstract=fields.TEXT(stored=False),
        mesh=fields.TEXT(),
        keywords=fields.TEXT(),
        authors=fields.TEXT(),
        journal=fields.TEXT(),
        year=fields.NUMERIC(stored=True, sortable=True),
        topic=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        pubtype=fields.KEYWORD(stored=True, commas=True),
        retracted=fields.BOOLEAN(stored=True),
    )


def article_to_document(article: Article) -> dict[str, Any]:
    """One Whoosh document for an Article. Only plain values: Whoosh types stay in index/search."""
    doc: dict[str, Any] = {
        "pmid": article.pmid,
        "title": article.title or "",
        "abstract": article.abstract or "",
        "mesh": " ; ".join(article.mesh_terms),
        "keywords": " ; ".join(article.keywords),
        "authors": " ; ".join(article.author_names),
        "journal": " ; ".join(x for x in (article.journal, article.journal_iso) if x),
        "topic": ",".join(sorted(article.topics)),
        "pubtype": ",".join(article.publication_types),
        "retracted": article.retracted,
    }
    if article.pub_year is not None:
        doc["year"] = article.pub_year
    return doc
