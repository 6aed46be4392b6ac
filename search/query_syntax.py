"""The query language's vocabulary of syntax: PubMed's field tags and what each searches,
whole-value tags, subsets, Whoosh-style ``field:`` prefixes, and the limits that keep a hostile
query cheap. Read by the lexer, the parser and the docs (known_tags)."""

from __future__ import annotations

import re

from index.evidence import LABEL_FACETS

TEXT_FIELDS = ("title", "abstract", "mesh", "keywords", "text", "author", "journal", "spell")
UNSTEMMED_FIELDS = frozenset({"author", "journal", "spell"})  # names: see index.whoosh.schema
# Fields matched as whole values (a term or a phrase in them is one keyword, never analysed).
KEYWORD_FIELDS = frozenset({"pubtype", "lang", "topic", "pmid", "year"})

# PubMed tags (and long forms) -> our fields. None = "the default fields".
TAGS: dict[str, tuple[str, ...] | None] = {
    "tiab": ("title", "abstract", "keywords"), "title/abstract": ("title", "abstract", "keywords"),
    "ti": ("title",), "title": ("title",),
    "ab": ("abstract",), "abstract": ("abstract",),
    "au": ("author",), "author": ("author",), "auth": ("author",), "1au": ("author",),
    "lastau": ("author",), "fau": ("author",), "full author name": ("author",),
    "mh": ("mesh",), "mesh": ("mesh",), "mesh terms": ("mesh",), "majr": ("mesh",),
    "mesh major topic": ("mesh",), "sh": ("mesh",), "subheading": ("mesh",),
    "mh:noexp": ("mesh",), "mesh:noexp": ("mesh",), "majr:noexp": ("mesh",),
    "mesh terms:noexp": ("mesh",), "mesh major topic:noexp": ("mesh",),
    "ot": ("keywords",), "kw": ("keywords",), "keyword": ("keywords",), "other term": ("keywords",),
    "nm": ("keywords",), "substance name": ("keywords",), "rn": ("keywords",),
    "tw": ("title", "abstract", "mesh", "keywords"), "text word": ("title", "abstract", "mesh", "keywords"),
    "all": None, "all fields": None,
    "ta": ("journal",), "journal": ("journal",), "jour": ("journal",),
    "pt": ("pubtype",), "publication type": ("pubtype",), "ptyp": ("pubtype",),
    "la": ("lang",), "language": ("lang",), "lang": ("lang",),
    "dp": ("year",), "pdat": ("year",), "date - publication": ("year",),
    "publication date": ("year",), "edat": ("year",), "crdt": ("year",),
    "date - entrez": ("year",), "date - create": ("year",),
    "pmid": ("pmid",), "uid": ("pmid",),
    "si": ("keys",), "secondary source id": ("keys",), "doi": ("keys",), "lid": ("keys",),
    "aid": ("keys",), "is": ("keys",), "issn": ("keys",),
    "sb": ("keys",), "subset": ("keys",), "filter": ("keys",),
    # ketlit's own: the evidence annotations (index.evidence), e.g. rct[design], phase-3[phase]
    **{name: ("keys",) for name in LABEL_FACETS},
}

# Tags whose term is one whole value of the record (a heading, a journal, an id), looked up in the
# index's ``keys`` field under a namespace (index.whoosh.schema). A run of words before one of these
# tags is one value, quoted or not, as in PubMed: Depressive Disorder[mh].
KEY_TAGS: dict[str, str] = {
    "mh": "mh", "mesh": "mh", "mesh terms": "mh", "mh:noexp": "mh", "mesh:noexp": "mh",
    "mesh terms:noexp": "mh",
    "majr": "mj", "mesh major topic": "mj", "majr:noexp": "mj", "mesh major topic:noexp": "mj",
    "sh": "sh", "subheading": "sh",
    "ta": "ta", "journal": "ta", "jour": "ta",
    "si": "si", "secondary source id": "si",
    "doi": "doi", "lid": "doi", "aid": "doi",
    "is": "is", "issn": "is",
    "sb": "sb", "subset": "sb", "filter": "sb",
    **{name: name for name in LABEL_FACETS},
}
# Date tags: which of the index's dates each searches (README, "Dates").
ENTREZ_DATE_TAGS = frozenset({"edat", "crdt", "date - entrez", "date - create"})

# PubMed's subsets and filter words ([sb], [filter]) that ketlit can tell from a record, with
# PubMed's aliases; a bare "hasabstract" is one too.
SUBSETS: dict[str, str] = {
    "free full text": "free full text", "ffrft": "free full text",
    "full text": "full text", "fft": "full text",
    "hasabstract": "hasabstract", "has abstract": "hasabstract", "fha": "hasabstract",
    "medline": "medline", "pubmednotmedline": "pubmednotmedline", "publisher": "publisher",
    "retracted": "retracted", "retracted publication": "retracted",
}
FILTER_WORDS = frozenset({"hasabstract"})  # understood without a tag, as in PubMed
# Name particles kept with an author's surname before the initials: van den Heuvel OA[au].
NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "di", "del", "della", "dos",
                             "du", "la", "le", "ter", "ten", "mac", "st", "al", "el", "bin"})

# Whoosh-style ``field:`` prefixes -> fields.
FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",), "abstract": ("abstract",), "mesh": ("mesh",), "keywords": ("keywords",),
    "keyword": ("keywords",), "author": ("author",), "au": ("author",), "journal": ("journal",),
    "year": ("year",), "type": ("pubtype",), "pubtype": ("pubtype",), "pt": ("pubtype",),
    "lang": ("lang",), "language": ("lang",), "topic": ("topic",), "pmid": ("pmid",),
    "text": ("text",),
}

_YEAR_MIN, _YEAR_MAX = 1000, 2999

# Limits that keep a hostile query cheap: a proximity wider than this is refused (words that far
# apart are no phrase), and so is nesting deeper than MAX_DEPTH parentheses or field prefixes.
MAX_SLOP = 100
MAX_DEPTH = 32

AUTHOR_TAGS = frozenset({"au", "author", "auth", "1au", "lastau", "fau", "full author name"})
MIN_PREFIX = 3  # letters before '*' (PubMed's own minimum)
ISSN_RE = re.compile(r"^\d{4}-\d{3}[\dXx]$")


def known_tags() -> list[str]:
    """The field tags the parser accepts, short forms (for error messages and docs)."""
    return sorted(t for t in TAGS if " " not in t and "/" not in t)
