"""Article -> Solr document, carrying ketlit's own biomedical analysis.

The text fields are Solr PreAnalyzedFields (configset/schema.xml) in the "simple" format: a
version, then each token with its position increment when it is not 1. The tokens and positions
are exactly those of the Whoosh index (index.analysis.index_tokens, the parts of ``text``
TEXT_PART_GAP positions apart), so phrases, hyphenated compounds and p-values behave the same on
both backends; queries are analysed by the same Python code (search.query).
"""

from __future__ import annotations

from typing import Any

from index.analysis import index_tokens
from index.article import Article
from index.evidence import LABEL_FACETS, evidence_keys, evidence_values, participants_number
from index.pubtypes import canonical_pubtype
from index.record_keys import WORD_PARTS, article_keys, entrez_date_key, pub_date_key
from index.whoosh.schema import TEXT_PART_GAP, _text_sources, sort_date

_ESCAPES = str.maketrans({"\\": "\\\\", " ": "\\ ", ",": "\\,", "=": "\\=", "\n": "\\n",
                          "\r": "\\r", "\t": "\\t"})


def escape_token(token: str) -> str:
    return token.translate(_ESCAPES) if not token.isalnum() else token


def encode_tokens(tokens: list[str], positions: list[int]) -> str:
    """The simple pre-analysed format of tokens at absolute positions (non-decreasing)."""
    out = ["1"]
    prev = -1
    for token, pos in zip(tokens, positions, strict=True):
        inc = pos - prev
        prev = pos
        tok = escape_token(token)
        out.append(tok if inc == 1 else f"{tok},i={inc}")
    return " ".join(out)


def article_to_solr(article: Article) -> dict[str, Any]:
    title, abstract, keywords, mesh, author, journal = _text_sources(article)
    doc: dict[str, Any] = {"pmid": article.pmid}
    text_tokens: list[str] = []
    text_pos: list[int] = []
    spell: list[str] = []
    part_words: dict[str, None] = {}
    offset = 0
    for name, value in (("title", title), ("abstract", abstract), ("keywords", keywords),
                        ("mesh", mesh)):
        words, stems, poses, npos = index_tokens(value)
        if stems:
            doc[name] = encode_tokens(stems, poses)
        if name != "abstract":
            spell.extend(words)
        part_words.update(dict.fromkeys(f"{WORD_PARTS[name]}:{w}" for w in words))
        text_tokens.extend(stems)
        text_pos.extend(p + offset for p in poses)
        offset += npos + TEXT_PART_GAP
    if text_tokens:
        doc["text"] = encode_tokens(text_tokens, text_pos)
    if spell:
        doc["spell"] = encode_tokens(spell, list(range(len(spell))))
    for name, value in (("author", author), ("journal", journal)):
        words, _stems, poses, _npos = index_tokens(value)
        if words:
            doc[name] = encode_tokens(words, poses)
    types = list(article.publication_types)
    if types:
        doc["pubtype"] = [t.replace(",", " ").lower() for t in types]
        doc["pubtype_facet"] = list(dict.fromkeys(canonical_pubtype(t) for t in types))
    if article.languages:
        doc["lang"] = [x.lower() for x in article.languages]
    if article.topics:
        doc["topic"] = sorted(article.topics)
    if article.pub_year is not None:
        doc["year"] = article.pub_year
    doc["date"] = sort_date(article)
    if part_words:
        doc["words"] = list(part_words)
    keys = article_keys(article) + evidence_keys(article.annotations)
    evidence = evidence_values(article.annotations)
    for name in LABEL_FACETS:  # facet fields (filters and tags use keys, as on Whoosh)
        if evidence[name]:
            doc[f"{name}_facet"] = list(evidence[name])
    doc["participants_facet"] = list(evidence["participants"])
    people = participants_number(article.annotations)
    if people is not None:
        doc["participants"] = people
    if keys:
        doc["keys"] = keys
    if pub_date_key(article):
        doc["pdate"] = pub_date_key(article)
    if entrez_date_key(article):
        doc["edate"] = entrez_date_key(article)
    doc["hasabs"] = bool(article.abstract)
    doc["retracted"] = bool(article.retracted)
    return doc
