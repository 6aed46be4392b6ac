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
- facets: a per-document column "year|topic,topic|Type;Type|design;..|route|drug|condition|phase|
  band" read to count facets without touching stored fields (FACET_PARTS names the parts; the
  evidence parts are index.evidence's facets).
- participants: the number of people studied (evidence annotations), for --min-participants.
- spell: unstemmed words of titles, keywords and MeSH for "did you mean".
- words: the unstemmed words of each part, as "t:word" (title), "a:" (abstract), "k:"
  (keywords and chemicals), "m:" (MeSH), for truncation (``word*`` matches words that begin with
  the letters typed, whatever they stem to); frequencies only, no positions.
- keys: whole values matched exactly or by prefix, one term each, namespaced: "mh:" MeSH
  descriptor, "mj:" a descriptor that is a major topic (its own or a qualifier's MajorTopicYN),
  "sh:" qualifier, "mq:" descriptor/qualifier, "au:" author as "last initials" (or a group
  name), "ta:" journal title and abbreviation, "is:" ISSN, "si:" secondary source id (bank/accession
  and accession), "doi:", "sb:" PubMed subsets (free full text, medline, ...), and the evidence
  annotations "design:rct", "route:", "drug:", "condition:", "phase:", "participants:<band>"
  (index.evidence.evidence_keys: filters and [design]-style tags).
- pdate, edate: the publication date (PubDate, its first day when only the year or month is
  given) and the Entrez date as YYYYMMDD, for [dp] and [edat]/[crdt] date ranges.

Indexing speed: the text fields are AnalysedText, which also takes postings computed beforehand
(article_to_document(..., analysed=True)). Each part of a record (title, abstract, keywords, MeSH)
is then tokenized once and stemmed from a cache, and ``text`` and ``spell`` are assembled from
those parts, where Whoosh would analyse the same words again for every field that repeats them
(11 analyses of a record's text instead of 4). The postings are the ones Whoosh's own path makes
from the strings, byte for byte (tests/index/test_schema.py), except that the parts of ``text``
are TEXT_PART_GAP positions apart, where Whoosh would number the words of the joined string on
(so a phrase could run from a title's last word into its abstract's first).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from whoosh import columns, fields, formats
from whoosh.system import pack_uint

from index.analysis import index_tokens
from index.article import Article
from index.evidence import EVIDENCE_FACET_NAMES, evidence_keys, evidence_values, participants_number
from index.pubtypes import canonical_pubtype
from index.record_keys import (
    KEY_SEP,
    WORD_PARTS,
    article_keys,
    entrez_date_key,
    pub_date_key,
)
from index.whoosh.analysis import BiomedTokenizer, biomed_analyzer, keys_analyzer

# 5: the parts of ``text`` lie TEXT_PART_GAP positions apart (phrases matched across the end
# of a title and the start of its abstract).
# 6: words (unstemmed, for truncation), keys (whole values for [mh], [majr], [au], [si], ...),
# pdate/edate (full-date ranges); publication types in facets in PubMed's one spelling.
# 7: evidence annotations: their labels in keys and facets, participants as a number.
SCHEMA_VERSION = 7

# Positions left empty between the parts (title, abstract, keywords, MeSH) of the ``text``
# field: a phrase, even with a slop ("..."~N) below this, cannot reach from one into the next.
TEXT_PART_GAP = 1000

# Separators inside the facets column; chosen because they never occur in topic names (config
# restricts them) and PubMed publication types contain neither.
FACET_SEP = "|"
LIST_SEP = ";"


class PreAnalysed(list):  # type: ignore[type-arg]
    """A field's postings computed beforehand: (utf-8 term, frequency, weight, encoded value)."""


class AnalysedText(fields.TEXT):
    """A TEXT field that also accepts :class:`PreAnalysed` postings instead of a string.

    Strings (queries, other callers) still go through the field's analyzer; the analyzer stays
    the one that defines the field's terms.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        if isinstance(value, PreAnalysed):
            return iter(value)
        return super().index(value, **kwargs)


def build_schema() -> fields.Schema:
    text = biomed_analyzer(stem=True)
    names = BiomedTokenizer(stem=False)
    return fields.Schema(
        pmid=fields.ID(stored=True, unique=True, sortable=True),
        title=AnalysedText(analyzer=text, phrase=True),
        abstract=AnalysedText(analyzer=text, phrase=True),
        mesh=AnalysedText(analyzer=text, phrase=True),
        keywords=AnalysedText(analyzer=text, phrase=True),
        text=AnalysedText(analyzer=text, phrase=True),
        author=AnalysedText(analyzer=names, phrase=True),
        journal=AnalysedText(analyzer=names, phrase=True),
        pubtype=fields.KEYWORD(commas=True, lowercase=True, scorable=False),
        lang=fields.KEYWORD(commas=True, lowercase=True, scorable=False),
        topic=fields.KEYWORD(commas=True, scorable=False),
        year=fields.NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        date=fields.NUMERIC(int, bits=32, sortable=True, signed=False),
        hasabs=fields.BOOLEAN(),
        retracted=fields.BOOLEAN(),
        facets=fields.COLUMN(columns.RefBytesColumn()),
        spell=AnalysedText(analyzer=names, phrase=False),
        words=AnalysedText(analyzer=keys_analyzer(), phrase=False),
        keys=AnalysedText(analyzer=keys_analyzer(), phrase=False),
        pdate=fields.NUMERIC(int, bits=32, sortable=True, signed=False),
        edate=fields.NUMERIC(int, bits=32, sortable=True, signed=False),
        participants=fields.NUMERIC(int, bits=32, signed=False),
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


# The parts of the facets column, in order: each a facet of search results.
FACET_PARTS: tuple[str, ...] = ("year", "topic", "publication_type", *EVIDENCE_FACET_NAMES)


def facet_key(article: Article) -> str:
    year = str(article.pub_year) if article.pub_year else ""
    types = dict.fromkeys(canonical_pubtype(t) for t in article.publication_types)
    evidence = evidence_values(article.annotations)
    return FACET_SEP.join((year, ",".join(sorted(article.topics)), LIST_SEP.join(types),
                           *(LIST_SEP.join(v for v in evidence[name] if FACET_SEP not in v)
                             for name in EVIDENCE_FACET_NAMES)))


def parse_facet_key(key: str) -> dict[str, tuple[str, ...]]:
    """Each facet's values in one facets-column value (FACET_PARTS; missing parts are empty)."""
    parts = key.split(FACET_SEP)
    parts += [""] * (len(FACET_PARTS) - len(parts))
    out = {"year": (parts[0],) if parts[0] else (),
           "topic": tuple(t for t in parts[1].split(",") if t)}
    for name, part in zip(FACET_PARTS[2:], parts[2:], strict=False):
        out[name] = tuple(t for t in part.split(LIST_SEP) if t)
    return out


def accepts_analysed(schema: fields.Schema) -> bool:
    """Does this (stored) schema take PreAnalysed values? Indexes built before it was added
    hold plain TEXT fields and get strings."""
    return all(isinstance(schema[name], AnalysedText) for name in ANALYSED_FIELDS)


ANALYSED_FIELDS = ("title", "abstract", "mesh", "keywords", "text", "author", "journal", "spell",
                   "words", "keys")


@dataclass(frozen=True)
class Analysis:
    """A record's text fields analysed ahead of indexing, with a digest of the text they came
    from: the harvest's parse helper (harvester/parse_worker.py) analyses on the other core, and
    :func:`article_to_document` uses the postings only if the record's text still has that
    digest (otherwise it analyses again, so stale postings can never reach the index)."""

    digest: bytes
    fields: dict[str, PreAnalysed]


def analyse(article: Article) -> Analysis:
    """The text fields' postings of ``article`` (what ``article_to_document(analysed=True)``
    puts in the document), to be handed to it later as ``analysis``."""
    sources = _text_sources(article)
    return Analysis(_digest(sources), _analysed_fields(*sources))


def _text_sources(article: Article) -> tuple[str, str, str, str, str, str]:
    """(title, abstract, keywords, mesh, author, journal): the strings the text fields index."""
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
    journal = " ; ".join(x for x in (article.journal, article.journal_iso) if x)
    return title, abstract, keywords, mesh, " ; ".join(authors), journal


def _digest(sources: tuple[str, ...]) -> bytes:
    # A separator no field contains, so ("ab", "c") and ("a", "bc") differ.
    text = "\x00".join(sources).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).digest()


def article_to_document(article: Article, analysed: bool = False,
                        analysis: Analysis | None = None) -> dict[str, Any]:
    """One Whoosh document for an Article. Only plain values: Whoosh types stay in index/search.

    ``analysed``: the text fields as PreAnalysed postings (the fast path for schemas of
    AnalysedText fields); otherwise as the strings Whoosh would analyse itself. ``analysis``:
    those postings computed beforehand by :func:`analyse`, used when the article's text is
    still what they were computed from.
    """
    sources = _text_sources(article)
    title, abstract, keywords, mesh, author, journal = sources
    doc: dict[str, Any] = {
        "pmid": article.pmid,
        "title": title,
        "abstract": abstract,
        "mesh": mesh,
        "keywords": keywords,
        # Analysed (analysed=True) with TEXT_PART_GAP positions between the parts, so that a
        # phrase never matches across two of them; " . " keeps plain-string indexes close.
        "text": " . ".join(x for x in (title, abstract, keywords, mesh) if x),
        "author": author,
        "journal": journal,
        "pubtype": ",".join(t.replace(",", " ") for t in article.publication_types),
        "lang": ",".join(article.languages),
        "topic": ",".join(sorted(article.topics)),
        "hasabs": bool(article.abstract),
        "retracted": article.retracted,
        "date": sort_date(article),
        "facets": facet_key(article).encode("utf-8"),
        # " . " like text: no token (a p-value) can span two parts, so the parts' tokens are
        # exactly the whole string's (what the PreAnalysed path relies on).
        "spell": " . ".join(x for x in (title, keywords, mesh) if x),
        "words": KEY_SEP.join(_part_words(title, abstract, keywords, mesh)),
        "keys": KEY_SEP.join(article_keys(article) + evidence_keys(article.annotations)),
        "pdate": pub_date_key(article),
        "edate": entrez_date_key(article),
    }
    if article.pub_year is not None:
        doc["year"] = article.pub_year
    people = participants_number(article.annotations)
    if people is not None:
        doc["participants"] = people
    if analysed:
        if analysis is not None and analysis.digest == _digest(sources):
            doc.update(analysis.fields)
        else:
            doc.update(_analysed_fields(*sources))
        doc["keys"] = _frequency_postings(doc["keys"].split(KEY_SEP) if doc["keys"] else [])
    return doc


def _part_words(title: str, abstract: str, keywords: str, mesh: str) -> list[str]:
    """The ``words`` terms of a record as a token list (one per occurrence), for the string path."""
    out: list[str] = []
    for ns, value in zip(WORD_PARTS.values(), (title, abstract, keywords, mesh), strict=True):
        out.extend(f"{ns}:{w}" for w in index_tokens(value)[0])
    return out


def _frequency_postings(terms: list[str]) -> PreAnalysed:
    """Postings of a frequency-only field (no positions) for a list of term occurrences."""
    counts: dict[str, int] = {}
    for t in terms:
        counts[t] = counts.get(t, 0) + 1
    return PreAnalysed((w.encode("utf-8"), n, _FLOAT[n] if n < 256 else float(n), pack_uint(n))
                       for w, n in sorted(counts.items()))


# -- PreAnalysed postings, identical to what Whoosh's Positions/Frequency formats make -------------

_POSITIONS = formats.Positions()
_SINGLE_POSITION: dict[int, bytes] = {}  # encoded [p] by p: most terms occur once in a field


_TERM_BYTES: dict[str, bytes] = {}
# Weights are frequencies as floats; shared objects keep the writer's term pool small.
_FLOAT = [float(i) for i in range(256)]


def _positions_postings(table: dict[str, list[int]]) -> PreAnalysed:
    out = PreAnalysed()
    encode = _POSITIONS.encode
    single = _SINGLE_POSITION
    as_bytes = _TERM_BYTES
    if len(as_bytes) > 500_000:
        as_bytes.clear()
    for word, plist in table.items():
        btext = as_bytes.get(word)
        if btext is None:
            btext = as_bytes[word] = word.encode("utf-8")
        n = len(plist)
        if n == 1:
            p = plist[0]
            value = single.get(p)
            if value is None:
                value = single[p] = encode(plist)
        else:
            value = encode(plist)
        out.append((btext, n, _FLOAT[n] if n < 256 else float(n), value))
    return out


def _table(words: list[str], poses: list[int], offset: int = 0,
           table: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    """Each term's positions (plus ``offset``), in the order the tokens came, added to
    ``table`` when given."""
    if table is None:
        table = {}
    get = table.get
    for word, pos in zip(words, poses, strict=True):
        plist = get(word)
        if plist is None:
            table[word] = [pos + offset]
        else:
            plist.append(pos + offset)
    return table


def _analysed_fields(title: str, abstract: str, keywords: str, mesh: str, author: str,
                     journal: str) -> dict[str, PreAnalysed]:
    out: dict[str, PreAnalysed] = {}
    text: dict[str, list[int]] = {}
    spell: dict[str, int] = {}
    part_words: list[str] = []
    offset = 0
    for name, value in (("title", title), ("abstract", abstract), ("keywords", keywords),
                        ("mesh", mesh)):
        words, stems, poses, npos = index_tokens(value)
        ns = WORD_PARTS[name]
        part_words.extend(f"{ns}:{w}" for w in words)
        if name != "abstract":
            for word in words:
                spell[word] = spell.get(word, 0) + 1
        out[name] = _positions_postings(_table(stems, poses))
        # ``text`` is these parts joined: the same tokens, positions shifted past the parts
        # before and TEXT_PART_GAP more, so that no phrase matches across two parts.
        _table(stems, poses, offset, text)
        offset += npos + TEXT_PART_GAP
    out["text"] = _positions_postings(text)
    out["words"] = _frequency_postings(part_words)
    out["spell"] = PreAnalysed((w.encode("utf-8"), n, _FLOAT[n] if n < 256 else float(n),
                                pack_uint(n)) for w, n in spell.items())
    for name, value in (("author", author), ("journal", journal)):
        words, _stems, poses, _npos = index_tokens(value)
        out[name] = _positions_postings(_table(words, poses))
    return out
