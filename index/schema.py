"""The Whoosh schema and the Article -> document mapping.

The index is derived data: the record store holds every Article, and ``ketlit reindex`` rebuilds
the index from it, so any change here is applied by reindex, never by re-downloading. Bump
SCHEMA_VERSION whenever fields or analysis change; an index built with another version is
reported as needing ``ketlit reindex``.

Field roles:
- title, abstract, mesh, keywords: the text searched by default, each analysed biomedically
  (index.analysis); ``text`` holds all four together for single-field BM25 scoring, measured
  better than summing per-field scores (bench/README.md, relevance).
- author, journal: names, folded but not stemmed.
- pubtype, lang, topic: exact keywords for filters and [pt] / [la].
- year, date: numbers for [dp] ranges and newest/oldest sorting.
- facets: a per-document column "year|topic,topic|Type;Type" read to count facets without
  touching stored fields.
- spell: unstemmed words of titles, keywords and MeSH for "did you mean".
"""

from __future__ import annotations

import re
from typing import Any

from whoosh import columns, fields

from index.analysis import BiomedTokenizer, biomed_analyzer
from index.article import Article

SCHEMA_VERSION = 4

# Separators inside the facets column; chosen because they never occur in topic names (config
# restricts them) and PubMed publication types contain neither.
FACET_SEP = "|"
LIST_SEP = ";"


def build_schema() -> fields.Schema:
    text = biomed_analyzer(stem=True)
    names = BiomedTokenizer(stem=False)
    return fields.Schema(
        pmid=fields.ID(stored=True, unique=True, sortable=True),
        title=fields.TEXT(analyzer=text, phrase=True),
        abstract=fields.TEXT(analyzer=text, phrase=True),
        mesh=fields.TEXT(analyzer=text, phrase=True),
        keywords=fields.TEXT(analyzer=text, phrase=True),
        text=fields.TEXT(analyzer=text, phrase=True),
        author=fields.TEXT(analyzer=names, phrase=True),
        journal=fields.TEXT(analyzer=names, phrase=True),
        pubtype=fields.KEYWORD(commas=True, lowercase=True, scorable=False),
        lang=fields.KEYWORD(commas=True, lowercase=True, scorable=False),
        topic=fields.KEYWORD(commas=True, scorable=False),
        year=fields.NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        date=fields.NUMERIC(int, bits=32, sortable=True, signed=False),
        hasabs=fields.BOOLEAN(),
        retracted=fields.BOOLEAN(),
        facets=fields.COLUMN(columns.RefBytesColumn()),
        spell=fields.TEXT(analyzer=names, phrase=False),
    )


_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def sort_date(article: Article) -> int:
    """YYYYMMDD used for newest/oldest: the electronic date, else Entrez date, else the year."""
    for iso in (article.epub_date, article.entrez_date):
        if iso:
            m = _DATE_RE.match(iso)
            if m:
                return int(m.group(1) + m.group(2) + m.group(3))
    if article.pub_year:
        return article.pub_year * 10000 + 101
    return 0


def facet_key(article: Article) -> str:
    year = str(article.pub_year) if article.pub_year else ""
    return FACET_SEP.join((year, ",".join(sorted(article.topics)),
                           LIST_SEP.join(article.publication_types)))


def parse_facet_key(key: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    year, topics, types = (key.split(FACET_SEP) + ["", "", ""])[:3]
    return (year, tuple(t for t in topics.split(",") if t),
            tuple(t for t in types.split(LIST_SEP) if t))


def article_to_document(article: Article) -> dict[str, Any]:
    """One Whoosh document for an Article. Only plain values: Whoosh types stay in index/search."""
    title = " ".join(x for x in (article.title or article.book_title, article.vernacular_title)
                     if x)
    mesh_parts: list[str] = []
    for m in article.mesh:
        mesh_parts.append(m.descriptor)
        mesh_parts.extend(q for q, _major in m.qualifiers)
    mesh = " ; ".join(mesh_parts)
    keywords = " ; ".join([*article.keywords, *article.chemicals])
    abstract = article.abstract or ""
    authors: list[str] = []
    for a in article.authors:
        if a.collective:
            authors.append(a.collective)
        else:
            authors.append(" ".join(x for x in (a.last, a.initials) if x))
            if a.fore:
                authors.append(" ".join(x for x in (a.last, a.fore) if x))
    doc: dict[str, Any] = {
        "pmid": article.pmid,
        "title": title,
        "abstract": abstract,
        "mesh": mesh,
        "keywords": keywords,
        # Sections are joined with a sentence break so phrases never match across them.
        "text": " . ".join(x for x in (title, abstract, keywords, mesh) if x),
        "author": " ; ".join(authors),
        "journal": " ; ".join(x for x in (article.journal, article.journal_iso) if x),
        "pubtype": ",".join(t.replace(",", " ") for t in article.publication_types),
        "lang": ",".join(article.languages),
        "topic": ",".join(sorted(article.topics)),
        "hasabs": bool(article.abstract),
        "retracted": article.retracted,
        "date": sort_date(article),
        "facets": facet_key(article).encode("utf-8"),
        "spell": " ".join(x for x in (title, keywords, mesh) if x),
    }
    if article.pub_year is not None:
        doc["year"] = article.pub_year
    return doc
