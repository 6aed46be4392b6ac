"""The query language: Whoosh's syntax plus PubMed field tags, compiled to a Whoosh query.

    ketamine AND (depression OR "suicidal ideation") NOT review[pt]
    esketamine randomized controlled trial[pt] 2019:2021[dp]
    Zarate CA[au] AND hnk[tiab]      title:ketamine      depress*      year:[2015 TO 2020]

Our own parser rather than Whoosh's QueryParser, because Whoosh's parser never fails: it
silently reinterprets an unbalanced parenthesis or an unknown tag, and a researcher then trusts a
wrong result. Here a malformed query raises QueryError naming the character where it goes wrong.

Rules (PubMed's where they differ from Whoosh's): terms are ANDed (``match="any"`` ORs them, for
pasted sentences); AND binds tighter than OR; ``NOT``/``-`` exclude; a tag after several plain
words takes a publication type ("ketamine randomized controlled trial[pt]"), a name with its
initials ("Smith J[au]") or a journal title, otherwise the last word (quote phrases:
"major depression"[tiab]); truncation needs three letters before ``*``.
Each word goes through the index's analysis (index.analysis): a hyphenated word matches its joined
form or its parts as a phrase, and vocabulary synonyms (search/vocabulary.yaml) are added as
alternatives with a lower weight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from whoosh import query as wq

from index import querytree as qt
from index.analysis import PROTECTED, fold, query_variants
from index.errors import QueryError
from index.evidence import LABEL_FACETS, evidence_key, normalise_label
from index.pubtypes import is_pubmed_type
from index.record_keys import WORD_PARTS, key_text
from index.whoosh.engine import Alternatives
from search.vocabulary import Vocabulary, key_of, load_vocabulary

# Default fields and their weights when a term has no tag: the whole record text, plus a title
# bonus (weights measured on the relevance benchmark, bench/README.md).
DEFAULT_FIELDS: dict[str, float] = {"text": 1.0, "title": 0.2}
SYNONYM_BOOST = 0.5
PART_BOOST = 0.1  # a part of a hyphenated word, under --match any (bench/README.md, relevance)
# Proximity evidence: adjacent query words found near each other in the text add this share of
# their score (measured on the relevance benchmark; 0 turns it off).
PROXIMITY_WEIGHT = 0.0
PROXIMITY_SLOP = 3
PROXIMITY_FIELD = "text"
MAX_PROXIMITY_PAIRS = 12

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
_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "di", "del", "della", "dos",
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


# -- lexing ----------------------------------------------------------------------------------------


@dataclass
class Tok:
    kind: str  # WORD PHRASE TAG LP RP AND OR NOT MINUS FIELD EOF
    text: str
    pos: int  # 0-based offset into the query
    slop: int = 1


_STEREO_AT = re.compile(r"\((?:\d*[RSrs](?:\s*,\s*\d*[RSrs])*|[+\u00b1-]|[DLdl])\)[-\u2010\u2011\u2013]?\w")
_PVAL_AT = re.compile(r"[pP]\s*(?:<=|>=|[<>=\u2264\u2265])\s*(?:\d*\.\d+|\d+)")
_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)
_SLOP_RE = re.compile(r"~(\d+)")


def _err(query: str, pos: int, what: str) -> QueryError:
    shown = query if len(query) <= 120 else query[:117] + "..."
    return QueryError(f"query: {what} at character {pos + 1} in '{shown}'")


def lex(query: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"' or ch == "\u201c" or ch == "\u201d":
            end = _find_quote(query, i + 1)
            if end < 0:
                raise _err(query, i, 'unterminated phrase (no closing ")')
            tok = Tok("PHRASE", query[i + 1:end], i)
            i = end + 1
            m = _SLOP_RE.match(query, i)
            if m:
                if len(m.group(1)) > 6 or int(m.group(1)) > MAX_SLOP:
                    raise _err(query, i, f"proximity ~{m.group(1)} is above the maximum of "
                                         f"~{MAX_SLOP} words")
                tok.slop = int(m.group(1)) + 1
                i = m.end()
            toks.append(tok)
            continue
        if ch == "(":
            m = _STEREO_AT.match(query, i)
            if m:
                i = _read_word(query, i, toks)
                continue
            toks.append(Tok("LP", "(", i))
            i += 1
            continue
        if ch == ")":
            toks.append(Tok("RP", ")", i))
            i += 1
            continue
        if ch == "[":
            end = query.find("]", i + 1)
            if end < 0:
                raise _err(query, i, "field tag opened with '[' is never closed")
            toks.append(Tok("TAG", query[i + 1:end].strip(), i))
            i = end + 1
            continue
        if ch == "]":
            raise _err(query, i, "']' without a matching '['")
        if ch in "-+!" and i + 1 < n and (query[i + 1].isalnum() or query[i + 1] in '"(') and \
                (i == 0 or query[i - 1].isspace() or query[i - 1] == "("):
            if ch != "+":
                toks.append(Tok("NOT", ch, i))
            i += 1
            continue
        m = _PVAL_AT.match(query, i)
        if m and (i == 0 or not query[i - 1].isalnum()):
            toks.append(Tok("WORD", m.group(0), i))
            i = m.end()
            continue
        i = _read_word(query, i, toks)
    toks.append(Tok("EOF", "", n))
    return toks


def _find_quote(query: str, start: int) -> int:
    for j in range(start, len(query)):
        if query[j] in '"\u201c\u201d':
            return j
    return -1


def _read_word(query: str, i: int, toks: list[Tok]) -> int:
    start, n = i, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace() or ch in '"[]\u201c\u201d':
            break
        if ch == ")":
            break
        if ch == "(":
            # "apo(a)", "chaperone(s)", "(R)-ketamine": parentheses inside a word belong to it
            # when they close before the word ends; otherwise the word stops here.
            close = query.find(")", i)
            if ((i > start or _STEREO_AT.match(query, i)) and close > 0
                    and not any(c.isspace() for c in query[i:close])):
                i = close + 1
                continue
            break
        i += 1
    word = query[start:i]
    if word in ("AND", "&&"):
        toks.append(Tok("AND", word, start))
    elif word in ("OR", "||"):
        toks.append(Tok("OR", word, start))
    elif word in ("NOT", "ANDNOT"):
        toks.append(Tok("NOT", word, start))
    else:
        m = _FIELD_RE.match(word)
        if m and m.group(1).lower() in FIELDS:
            toks.append(Tok("FIELD", m.group(1).lower(), start))
            rest = m.group(2)
            if rest:
                toks.append(Tok("WORD", rest, start + len(m.group(1)) + 1))
        elif word:
            toks.append(Tok("WORD", word, start))
        else:  # a lone character the loop above stopped on; never loop forever
            return i + 1
    return i


# -- parsing ---------------------------------------------------------------------------------------


@dataclass
class Node:
    pos: int


@dataclass
class TermNode(Node):
    text: str
    fields: tuple[str, ...] | None = None  # None = default fields
    tag: str | None = None


@dataclass
class PhraseNode(Node):
    text: str
    fields: tuple[str, ...] | None = None
    tag: str | None = None
    slop: int = 1


@dataclass
class GroupNode(Node):
    op: str  # "and" | "or"
    items: list[tuple[bool, Node]] = field(default_factory=list)  # (negated, node)


class Parser:
    def __init__(self, query: str, implicit: str, vocab: Vocabulary) -> None:
        self.query = query
        self.vocab = vocab
        self.toks = lex(query)
        self.i = 0
        self.implicit = implicit
        self.depth = 0  # open parentheses around the current position (MAX_DEPTH)

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> Node:
        if self.peek().kind == "EOF":
            raise QueryError("query: the query is empty; give some words to search for")
        node = self.parse_or()
        t = self.peek()
        if t.kind == "RP":
            raise _err(self.query, t.pos, "unbalanced parenthesis (')' without '(')")
        if t.kind != "EOF":
            raise _err(self.query, t.pos, f"unexpected {t.text!r}")
        return node

    def parse_or(self) -> Node:
        start = self.peek().pos
        items = [(False, self.parse_and())]
        while self.peek().kind == "OR":
            op = self.take()
            if self.peek().kind in ("EOF", "RP", "OR", "AND"):
                raise _err(self.query, op.pos, "OR has nothing on its right")
            items.append((False, self.parse_and()))
        return items[0][1] if len(items) == 1 else GroupNode(start, "or", items)

    def parse_and(self) -> Node:
        start = self.peek().pos
        t = self.peek()
        if t.kind in ("AND", "OR"):
            raise _err(self.query, t.pos, f"{t.text} has nothing on its left")
        if t.kind in ("RP", "EOF"):
            raise _err(self.query, t.pos, "expected a search term")
        items: list[tuple[bool, Node]] = []
        explicit_and = False
        while True:
            t = self.peek()
            if t.kind in ("EOF", "RP", "OR"):
                break
            if t.kind == "AND":
                self.take()
                explicit_and = True
                if self.peek().kind in ("EOF", "RP", "OR", "AND"):
                    raise _err(self.query, t.pos, "AND has nothing on its right")
                continue
            negated = False
            while self.peek().kind == "NOT":
                nt = self.take()
                if self.peek().kind in ("EOF", "RP", "OR", "AND"):
                    raise _err(self.query, nt.pos, f"{nt.text} has nothing on its right")
                negated = not negated
            nodes = self.parse_unit()
            if self.peek().kind == "WORD" and self.peek().text == ":" and nodes \
                    and _is_date_node(nodes[-1]):
                nodes[-1] = self.date_range(nodes[-1])
            items.extend((negated, node) for node in nodes)
        op = "and" if self.implicit == "and" or explicit_and else "or"
        if len(items) == 1 and not items[0][0]:
            return items[0][1]
        return GroupNode(start, op, items)

    def parse_unit(self) -> list[Node]:
        """One primary; a run of words followed by a tag comes back as one tagged phrase."""
        t = self.peek()
        if t.kind == "LP":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _err(self.query, t.pos,
                           f"parentheses nested deeper than {MAX_DEPTH} levels")
            if self.peek().kind == "RP":
                raise _err(self.query, t.pos, "empty parentheses")
            if self.peek().kind == "EOF":
                raise _err(self.query, t.pos, "unbalanced parenthesis ('(' never closed)")
            inner = self.parse_or()
            if self.peek().kind != "RP":
                raise _err(self.query, t.pos, "unbalanced parenthesis ('(' never closed)")
            self.take()
            self.depth -= 1
            if self.peek().kind == "TAG":
                fields, tag = self.tag_fields(self.take())
                _apply_fields(inner, fields, tag)
            return [inner]
        if t.kind == "PHRASE":
            self.take()
            node = PhraseNode(t.pos, t.text, slop=t.slop)
            if self.peek().kind == "TAG":
                node.fields, node.tag = self.tag_fields(self.take())
            return [node]
        if t.kind == "FIELD":
            self.take()
            fields = FIELDS[t.text]
            nxt = self.peek()
            if nxt.kind == "TAG" and fields == ("year",):
                self.take()
                return [TermNode(nxt.pos, nxt.text.replace(" TO ", ":").replace(" to ", ":"),
                                 fields, "year")]
            if nxt.kind not in ("WORD", "PHRASE", "LP"):
                raise _err(self.query, t.pos, f"field '{t.text}:' has nothing after it")
            nodes = self.parse_unit()
            for node in nodes:
                _apply_fields(node, fields, t.text + ":")
            return nodes
        if t.kind == "TAG":
            raise _err(self.query, t.pos, f"field tag [{t.text}] has no term before it")
        if t.kind == "WORD":
            j = self.i
            while self.toks[j].kind == "WORD":
                j += 1
            if self.toks[j].kind == "TAG":
                words = self.toks[self.i:j]
                self.i = j
                fields, tag = self.tag_fields(self.take())
                n = self.tag_span(words, fields, tag)
                plain: list[Node] = [TermNode(w.pos, w.text) for w in words[:-n]]
                tagged = words[-n:]
                if n == 1:
                    return [*plain, TermNode(tagged[0].pos, tagged[0].text, fields, tag)]
                text = " ".join(w.text for w in tagged)
                return [*plain, PhraseNode(tagged[0].pos, text, fields, tag)]
            self.take()
            return [TermNode(t.pos, t.text)]
        raise _err(self.query, t.pos, f"unexpected {t.text!r}")

    def date_range(self, left: Node) -> Node:
        """PubMed's quoted range, "2023/01/01"[dp] : "2023/12/31"[dp], as 2023/01/01:2023/12/31."""
        colon = self.take()
        right = self.parse_unit() if self.peek().kind in ("WORD", "PHRASE") else []
        if len(right) != 1 or not _is_date_node(right[0]):
            raise _err(self.query, colon.pos, "a date range needs a date on each side of ':'")
        assert isinstance(left, TermNode | PhraseNode)
        other = right[0]
        assert isinstance(other, TermNode | PhraseNode)
        tag = left.tag or other.tag
        if tag is None or (left.tag and other.tag and TAGS[left.tag] != TAGS[other.tag]):
            raise _err(self.query, colon.pos,
                       "a date range needs one date tag, such as [dp], on its dates")
        return TermNode(left.pos, f"{left.text.strip()}:{other.text.strip()}", TAGS[tag], tag)

    def tag_span(self, words: list[Tok], fields: tuple[str, ...] | None, tag: str) -> int:
        """How many of the words right before a tag it applies to (PubMed-like).

        Tags of whole values ([mh], [majr], [sh], [ta], [si], [doi], [sb]: KEY_TAGS) take the whole
        run, as PubMed reads a tagged multi-word term as one term ("Depressive Disorder[mh]");
        [pt]: the longest run that names a publication type ("ketamine randomized controlled
        trial[pt]"), else the whole run; [au]: a surname with its particles and initials
        ("van den Heuvel OA[au]"), else the last word; [la]: a language name of two words or
        the last word; text fields: the last word (quote a phrase: "major depression"[tiab]).
        """
        if KEY_TAGS.get(tag) in LABEL_FACETS:
            # An annotation label: the longest run naming one ("esketamine rct[design]",
            # "treatment resistant depression[condition]"), else the last word (an error).
            for n in range(len(words), 0, -1):
                try:
                    normalise_label(KEY_TAGS[tag], " ".join(w.text for w in words[-n:]))
                except ValueError:
                    continue
                return n
            return 1
        if tag in KEY_TAGS:
            return len(words)
        if fields == ("year",) and len(words) >= 3 and words[-2].text == ":":
            return 3  # 2023/01/01 : 2023/12/31[dp]
        if fields == ("pubtype",):
            for n in range(len(words), 0, -1):
                name = " ".join(w.text for w in words[-n:])
                if _is_publication_type(self.vocab, name):
                    return n
            return len(words)
        if fields == ("author",):
            if len(words) > 1 and _looks_like_initials(words[-1].text):
                n = 2
                while n < len(words) and words[-n - 1].text.lower() in _NAME_PARTICLES:
                    n += 1
                return n
            return 1
        if fields == ("lang",) and len(words) > 1:
            two = " ".join(w.text for w in words[-2:])
            return 2 if self.vocab.language(two) != two.lower() else 1
        return 1

    def tag_fields(self, tag: Tok) -> tuple[tuple[str, ...] | None, str]:
        name = " ".join(tag.text.lower().split())
        if name not in TAGS:
            raise _err(self.query, tag.pos,
                       f"unknown field tag [{tag.text}] (known: {', '.join(known_tags())})")
        return TAGS[name], name


def _apply_fields(node: Node, fields: tuple[str, ...] | None, tag: str) -> None:
    if isinstance(node, GroupNode):
        for _neg, child in node.items:
            _apply_fields(child, fields, tag)
    elif isinstance(node, TermNode | PhraseNode) and node.tag is None:
        node.fields, node.tag = fields, tag


# -- compiling ------------------------------------------------------------------------------------


@dataclass
class CompiledQuery:
    query: wq.Query
    highlight_terms: frozenset[str]  # analysed tokens to mark in snippets
    text_terms: tuple[str, ...]  # analysed positive words, for "did you mean"
    raw_words: tuple[str, ...]  # the positive words as typed


class QueryBuilder:
    """Compiles query text to a Whoosh query (see the module docstring)."""

    def __init__(self, vocabulary: Vocabulary | None = None,
                 default_fields: dict[str, float] | None = None,
                 synonym_boost: float = SYNONYM_BOOST) -> None:
        self.vocab = vocabulary or load_vocabulary()
        self.default_fields = dict(default_fields or DEFAULT_FIELDS)
        self.synonym_boost = synonym_boost
        self.proximity_weight = PROXIMITY_WEIGHT
        self.proximity_slop = PROXIMITY_SLOP

    def build(self, text: str, match: str = "all") -> CompiledQuery:
        text = _query_text(text, match)
        node = Parser(text, "and" if match == "all" else "or", self.vocab).parse()
        if not isinstance(node, GroupNode):
            node = GroupNode(0, "and", [(False, node)])  # so a lone word gets its synonyms
        ctx = _Ctx(text, implicit_and=match == "all")
        q = self._node(node, ctx, negated=False)
        if q is None:
            if ctx.only_stops:
                raise QueryError(f"query: '{text}' has only stop words (words too common to "
                                 "be indexed, like 'the' or 'of'); add a more specific word")
            raise QueryError(f"query: nothing searchable in '{text}'")
        q = self._with_proximity(q, ctx)
        return CompiledQuery(q, frozenset(ctx.highlight), tuple(dict.fromkeys(ctx.words)),
                             tuple(dict.fromkeys(ctx.raw)))

    def _with_proximity(self, q: wq.Query, ctx: _Ctx) -> wq.Query:
        """Adds optional evidence for query words that occur close together in a record."""
        if self.proximity_weight <= 0 or PROXIMITY_FIELD not in self.default_fields:
            return q
        seq = ctx.sequence
        pairs = list(dict.fromkeys((a, b) for a, b in zip(seq, seq[1:], strict=False) if a != b))
        pairs = pairs[:MAX_PROXIMITY_PAIRS]
        if not pairs:
            return q
        near = [wq.Phrase(PROXIMITY_FIELD, [a, b], slop=self.proximity_slop,
                          boost=self.proximity_weight) for a, b in pairs]
        return wq.AndMaybe(q, near[0] if len(near) == 1 else wq.Or(near))

    # Each _node returns None when the node analyses to nothing (stop words only).
    def _node(self, node: Node, ctx: _Ctx, negated: bool) -> wq.Query | None:
        if isinstance(node, GroupNode):
            return self._group(node, ctx, negated)
        if isinstance(node, PhraseNode):
            return self._phrase(node, ctx, negated)
        assert isinstance(node, TermNode)
        return self._term(node, ctx, negated)

    def _group(self, node: GroupNode, ctx: _Ctx, negated: bool) -> wq.Query | None:
        pos: list[wq.Query] = []
        neg: list[wq.Query] = []
        items = node.items
        i = 0
        while i < len(items):
            is_neg, child = items[i]
            run = self._synonym_run(items, i)
            if run:
                n, q = run
                i += n
                (neg if is_neg else pos).append(q)
                self._remember_run(items[i - n:i], ctx, negated or is_neg)
                if not (negated or is_neg):  # synonyms found are marked in snippets too
                    ctx.highlight.update(t for _f, t in iter_terms(q) if len(t) >= 3)
                continue
            q = self._node(child, ctx, negated or is_neg)
            i += 1
            if q is not None:
                (neg if is_neg else pos).append(q)
        if not pos and not neg:
            return None
        if not pos:
            # Only exclusions ("NOT review[pt]"): everything except them.
            return wq.Not(wq.Or(neg) if len(neg) > 1 else neg[0])
        base = pos[0] if len(pos) == 1 else (wq.And(pos) if node.op == "and" else wq.Or(pos))
        if neg:
            return wq.AndNot(base, wq.Or(neg) if len(neg) > 1 else neg[0])
        return base

    def _remember_run(self, items: Sequence[tuple[bool, Node]], ctx: _Ctx, negated: bool) -> None:
        for _neg, child in items:
            if isinstance(child, TermNode) and not negated:
                groups = query_variants(child.text, PROTECTED)
                for g in groups:
                    ctx.highlight.update(g)
                    ctx.words.append(g[0])
                    if child.fields is None:
                        ctx.sequence.extend(g[1:] if len(g) > 1 else g)
                ctx.raw.append(child.text)

    def _synonym_run(self, items: list[tuple[bool, Node]], i: int) -> tuple[int, wq.Query] | None:
        """Longest run of plain words starting at i that is a vocabulary expression."""
        first_neg = items[i][0]
        run: list[TermNode] = []
        for neg, child in items[i:i + self.vocab.max_len]:
            if (neg != first_neg or not isinstance(child, TermNode) or child.tag is not None
                    or _is_wild(child.text)):
                break
            if run and (child.fields != run[0].fields):
                break
            run.append(child)
        keys: list[str] = []
        ends: list[int] = []  # number of run items consumed for each key length
        for n, child in enumerate(run, 1):
            groups = query_variants(child.text, PROTECTED)
            keys.extend(g[0] for g in groups)
            ends.extend([n] * len(groups))
        for length in range(min(len(keys), self.vocab.max_len), 0, -1):
            if length < len(keys) and ends[length] == ends[length - 1]:
                continue  # a key must end where a typed word ends
            exprs = self.vocab.expansions(tuple(keys[:length]))
            if exprs:
                fields = self._fields(run[0].fields)
                own = tuple(keys[:length])
                alts = []
                # The expression as typed first, so deduplication keeps its full weight.
                for expr in sorted(exprs, key=lambda e: key_of(e) != own):
                    boost = 1.0 if key_of(expr) == own else self.synonym_boost
                    q = self._expression(expr, fields, boost, slop=1)
                    if q is not None:
                        alts.append(q)
                if not alts:
                    return None
                typed = any(key_of(e) == own for e in exprs)
                return ends[length - 1], _or_unique(alts, typed_first=typed)
        return None

    def _fields(self, fields: tuple[str, ...] | None) -> dict[str, float]:
        if fields is None:
            return self.default_fields
        return {f: 1.0 for f in fields}

    def _expression(self, expr: Sequence[Sequence[str]], fields: dict[str, float],
                    boost: float, slop: int) -> wq.Query | None:
        """An analysed expression (token groups) as a query over fields."""
        if not expr:
            return None
        per_field = []
        for f, w in fields.items():
            if len(expr) == 1:
                q = _word_query(f, expr[0], w * boost)
            else:
                words: list[str] = []
                for g in expr:
                    words.extend(g[1:] if len(g) > 1 else g)
                q = wq.Phrase(f, words, slop=slop, boost=w * boost)
            per_field.append(q)
        return per_field[0] if len(per_field) == 1 else wq.Or(per_field)

    def _term(self, node: TermNode, ctx: _Ctx, negated: bool) -> wq.Query | None:
        fields = node.fields
        if node.tag in KEY_TAGS:
            return self._key(node, ctx)
        if node.tag in AUTHOR_TAGS and _author_key(node.text):
            return wq.Prefix("keys", "au:" + key_text(node.text))
        if node.tag is None and fields is None and fold(node.text) in FILTER_WORDS:
            return wq.Term("keys", "sb:" + SUBSETS[fold(node.text)])
        if fields and fields[0] in KEYWORD_FIELDS:
            return self._keyword(node.text, node, ctx)
        if _is_wild(node.text):
            return self._wild(node, ctx, negated)
        groups = query_variants(node.text, PROTECTED, stem=_stemmed(fields))
        if not groups:
            if fold(node.text).strip().isalnum():
                ctx.only_stops = True
            return None
        if not negated:
            for g in groups:
                ctx.highlight.update(g)
                ctx.words.append(g[0])
                if fields is None:
                    ctx.sequence.extend(g[1:] if len(g) > 1 else g)
            ctx.raw.append(node.text)
        fmap = self._fields(fields)
        parts = [self._expression([g], fmap, 1.0, 1) for g in groups]
        if not ctx.implicit_and:
            # --match any: a hyphenated or alphanumeric word ("high-fat", "IGF-1") also counts
            # by each of its parts, a little less than the word itself.
            parts += [self._expression([(p,)], fmap, PART_BOOST, 1)
                      for g in groups if len(g) > 2 for p in g[1:] if len(p) > 1]
        qs = [p for p in parts if p is not None]
        if len(qs) == 1:
            return qs[0]
        # "mg/kg", "throughput(CPT)": one typed word that holds several words.
        return wq.And(qs) if ctx.implicit_and else wq.Or(qs)

    def _phrase(self, node: PhraseNode, ctx: _Ctx, negated: bool) -> wq.Query | None:
        fields = node.fields
        if node.tag in KEY_TAGS:
            return self._key(node, ctx)
        if node.tag in AUTHOR_TAGS and _author_key(node.text):
            return wq.Prefix("keys", "au:" + key_text(node.text))
        if fields and fields[0] in KEYWORD_FIELDS:
            return self._keyword(node.text, node, ctx)
        groups = query_variants(node.text, PROTECTED, stem=_stemmed(fields))
        if not groups:
            ctx.only_stops = True
            return None
        if not negated:
            for g in groups:
                ctx.highlight.update(g)
                ctx.words.append(g[0])
            ctx.raw.extend(node.text.split())
        fmap = self._fields(fields)
        main = self._expression([tuple(g) for g in groups], fmap, 1.0, node.slop)
        exprs = self.vocab.expansions(tuple(g[0] for g in groups))
        if not exprs or main is None:
            return main
        if not negated:
            for expr in exprs:
                for g in expr:
                    ctx.highlight.update(t for t in g if len(t) >= 3)
        alts = [main]
        own = tuple(g[0] for g in groups)
        for expr in exprs:
            if key_of(expr) != own:
                q = self._expression(expr, fmap, self.synonym_boost, 1)
                if q is not None:
                    alts.append(q)
        return _or_unique(alts, typed_first=True)

    def _wild(self, node: TermNode, ctx: _Ctx, negated: bool) -> wq.Query:
        """Truncation: every word that begins with the letters typed, matched against the
        unstemmed words of each field the tag covers (index.whoosh.schema ``words``), so that
        ``functional*`` finds "functional" and "functionality" although they stem to
        "function". PubMed's limits: MIN_PREFIX letters, MAX_EXPANSIONS variants (the engine
        reports a cut)."""
        text = fold(node.text)
        first = min(i for i, c in enumerate(text) if c in "*?")
        if len(re.sub(r"[^0-9a-z]", "", text[:first])) < MIN_PREFIX:
            raise _err(ctx.query, node.pos + first,
                       f"truncation needs at least {MIN_PREFIX} letters before '*' or '?'")
        stem = re.sub(r"[^0-9a-z*?]", "", text)
        if not negated:
            ctx.wild.append(stem)
            ctx.raw.append(node.text)
        qs: list[wq.Query] = []
        for f, w in self._fields(node.fields).items():
            for fname, pattern in _unstemmed(f, stem):
                if pattern.endswith("*") and "*" not in pattern[:-1] and "?" not in pattern:
                    qs.append(wq.Prefix(fname, pattern[:-1], boost=w))
                else:
                    qs.append(wq.Wildcard(fname, pattern, boost=w))
        return qs[0] if len(qs) == 1 else wq.Or(qs)

    def _key(self, node: TermNode | PhraseNode, ctx: _Ctx) -> wq.Query:
        """A tagged whole value (KEY_TAGS): one term of the index's ``keys`` field."""
        assert node.tag is not None
        ns = KEY_TAGS[node.tag]
        value = " ".join(node.text.split())
        if ns in LABEL_FACETS:
            return wq.Term("keys", evidence_key(ns, _evidence_label(ns, value, ctx.query,
                                                                    node.pos, node.tag)))
        if ns == "sb":
            subset = SUBSETS.get(fold(value))
            if subset is None:
                known = ", ".join(sorted(set(SUBSETS)))
                raise _err(ctx.query, node.pos,
                           f"unknown subset or filter {value!r}[{node.tag}] (known: {known})")
            return wq.Term("keys", "sb:" + subset)
        if ns == "ta":
            if _ISSN_RE.match(value):
                ns = "is"
            else:
                value = value.replace(".", " ")
        text = key_text(value)
        if ns in ("mh", "mj") and "/" in text:
            # Descriptor/qualifier, as PubMed writes it: ketamine/therapeutic use[mh].
            ns = "mq"
        if text.endswith("*"):
            head = text.rstrip("*").rstrip()
            if len(re.sub(r"[^0-9a-z]", "", head)) < MIN_PREFIX:
                raise _err(ctx.query, node.pos,
                           f"truncation needs at least {MIN_PREFIX} letters before '*'")
            return wq.Prefix("keys", f"{ns}:{head}")
        if not text:
            raise _err(ctx.query, node.pos, f"[{node.tag}] has nothing before it")
        return wq.Term("keys", f"{ns}:{text}")

    def _keyword(self, text: str, node: Node, ctx: _Ctx) -> wq.Query:
        assert isinstance(node, TermNode | PhraseNode)
        fname = (node.fields or ("text",))[0]
        value = " ".join(text.split())
        if fname == "year":
            return year_query(value, lambda msg: _err(ctx.query, node.pos, msg),
                              entrez=node.tag in ENTREZ_DATE_TAGS)
        if fname == "pubtype":
            return pubtype_query(self.vocab, [value])
        if fname == "lang":
            return wq.Term("lang", self.vocab.language(value))
        if fname == "pmid":
            return wq.Term("pmid", value)
        return wq.Term("topic", value)


@dataclass
class _Ctx:
    query: str
    implicit_and: bool = True
    highlight: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    wild: list[str] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)  # default-field words in typed order
    only_stops: bool = False


def _is_publication_type(vocab: Vocabulary, name: str) -> bool:
    folded = " ".join(name.lower().split())
    return is_pubmed_type(folded) or folded in vocab.publication_types


def _stemmed(fields: tuple[str, ...] | None) -> bool:
    return not (fields and set(fields) <= UNSTEMMED_FIELDS)


AUTHOR_TAGS = frozenset({"au", "author", "auth", "1au", "lastau", "fau", "full author name"})
MIN_PREFIX = 3  # letters before '*' (PubMed's own minimum)
_ISSN_RE = re.compile(r"^\d{4}-\d{3}[\dXx]$")


def known_tags() -> list[str]:
    """The field tags the parser accepts, short forms (for error messages and docs)."""
    return sorted(t for t in TAGS if " " not in t and "/" not in t)


_DATE_TEXT = re.compile(r"^\s*\d{4}(?:[/-]\d{1,2}){0,2}\s*$")


_OPERATOR_WORDS = {"AND", "OR", "NOT", "ANDNOT", "&&", "||"}
_TEXT_DROP = str.maketrans({c: " " for c in '"\u201c\u201d[]{}~*^?'})
_IN_WORD_PARENS = re.compile(r"^[^()]*\w\([^()\s]+\)[^()]*$")  # apo(a), chaperone(s)


def _query_text(text: str, match: str) -> str:
    """The text the parser reads: checked, stripped, and read as plain words for ``any``."""
    if match not in ("all", "any"):
        raise QueryError(f"query: match must be 'all' or 'any', not {match!r}")
    text = text.strip()
    if match == "any":
        text = as_text(text)
    if not text:
        raise QueryError("query: the query is empty; give some words to search for")
    return text


def as_text(query: str) -> str:
    """``--match any`` reads its text as text (a question or a claim pasted as a sentence):
    quotes, brackets, parentheses that are not part of a word ("(R)-ketamine", "apo(a)"),
    operators, wildcards, proximity and field prefixes become plain words, so "1)", "vs." or an
    unbalanced parenthesis are never syntax errors."""
    words = []
    for raw in query.translate(_TEXT_DROP).split():
        word = raw
        if word in _OPERATOR_WORDS:
            word = word.lower()
        if not (_STEREO_AT.match(word) or _IN_WORD_PARENS.match(word)):
            word = word.replace("(", " ").replace(")", " ")
        parts = []
        for part in word.split():
            part = part.lstrip("-+!").rstrip(":")
            m = _FIELD_RE.match(part)
            if m and m.group(1).lower() in FIELDS:
                part = f"{m.group(1)} {m.group(2)}"
            if part:
                parts.append(part)
        words.extend(parts)
    return " ".join(words)


def _is_date_node(node: Node) -> bool:
    return (isinstance(node, TermNode | PhraseNode) and bool(_DATE_TEXT.match(node.text))
            and node.fields in (None, ("year",)))


def _looks_like_initials(word: str) -> bool:
    return word.isalpha() and len(word) <= 3 and (word.isupper() or len(word) <= 2)


def _author_key(text: str) -> bool:
    """An author written as a surname and initials ("Krystal J"): matched as PubMed does, the
    initials as a prefix of the record's ("Krystal JH"), against whole author names."""
    words = text.split()
    return len(words) >= 2 and _looks_like_initials(words[-1].rstrip("*"))


def _unstemmed(field: str, pattern: str) -> list[tuple[str, str]]:
    """(field, pattern) pairs that match ``pattern`` against unstemmed words of ``field``."""
    if field == "text":
        return [("words", f"{ns}:{pattern}") for ns in WORD_PARTS.values()]
    if field in WORD_PARTS:
        return [("words", f"{WORD_PARTS[field]}:{pattern}")]
    return [(field, pattern)]  # author, journal, spell: unstemmed already


def _or_unique(alts: list[wq.Query], typed_first: bool = False) -> wq.Query:
    """Or of alternatives, dropping those that compile to the same query as an earlier one.
    ``typed_first``: the first is what the user typed and the rest its vocabulary expansions,
    which then never outweigh it (engine.Alternatives)."""
    seen: dict[str, wq.Query] = {}
    for q in alts:
        seen.setdefault(str(q), q)  # str: boosts aside; the first (strongest) wins
    out = list(seen.values())
    if len(out) == 1:
        return out[0]
    return Alternatives(out) if typed_first else wq.Or(out)


def _is_wild(text: str) -> bool:
    # A trailing "?" is punctuation in a pasted question, not a wildcard.
    return "*" in text or "?" in text.rstrip("?")


def _word_query(fieldname: str, group: Sequence[str], boost: float) -> wq.Query:
    if len(group) == 1:
        return wq.Term(fieldname, group[0], boost=boost)
    # A hyphenated word: its joined form, or its parts as a phrase ("il6" | "il 6").
    return wq.Or([wq.Term(fieldname, group[0], boost=boost),
                  wq.Phrase(fieldname, list(group[1:]), boost=boost)])


# -- keyword fields shared with filters ----------------------------------------------------------


_DATE_PART = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")


def _date_bound(text: str, upper: bool) -> tuple[int, int] | None:
    """(year, yyyymmdd) for YYYY, YYYY/MM or YYYY/MM/DD; the bound's first or last day."""
    m = _DATE_PART.match(text.strip())
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else (12 if upper else 1)
    d = int(m.group(3)) if m.group(3) else (31 if upper else 1)
    if not (_YEAR_MIN <= y <= _YEAR_MAX and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return y, y * 10000 + mo * 100 + d


def year_query(value: str, error: Callable[[str], QueryError], entrez: bool = False) -> wq.Query:
    """2019, 2019:2021, 2019/06:2020/03/15, 2019-2021 ([dp] and year:).

    [dp] searches the publication date (PubDate): whole years the ``year`` field, dates with a
    month or day the ``pdate`` field, whose year is the same, so both forms agree. [edat] and
    [crdt] search the Entrez date (``edate``).
    """
    raise_ = error
    text = value.strip().replace(" ", "").replace('"', "")
    lo_s, sep, hi_s = (text.partition(":") if ":" in text else
                       (text.partition("-") if re.match(r"^\d{4}-\d{4}$", text) else
                        (text, "", "")))
    lo = _date_bound(lo_s, upper=False) if lo_s else None
    hi = _date_bound(hi_s if sep else lo_s, upper=True) if (hi_s or not sep) else None
    if (lo_s and lo is None) or (sep and hi_s and hi is None) or (not lo_s and not hi_s):
        raise raise_(f"bad date {value!r} (expected YYYY, YYYY/MM/DD or FROM:TO)")
    if lo and hi and lo[1] > hi[1]:
        raise raise_(f"date range {value!r} ends before it starts")
    if entrez:
        return wq.NumericRange("edate", lo[1] if lo else None, hi[1] if hi else None)
    precise = any("/" in s or re.match(r"^\d{4}-\d", s or "") for s in (lo_s, hi_s))
    if precise:
        return wq.NumericRange("pdate", lo[1] if lo else None, hi[1] if hi else None)
    return wq.NumericRange("year", lo[0] if lo else None, hi[0] if hi else None)


def pubtype_query(vocab: Vocabulary, names: Sequence[str]) -> wq.Query:
    terms = [wq.Term("pubtype", vocab.publication_type(n).lower()) for n in names]
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def iter_terms(q: wq.Query) -> Iterator[tuple[str, str]]:
    """(field, text) of every term in a compiled query (for tests and highlighting)."""
    for f, t in q.iter_all_terms():
        yield f, t.decode("utf-8") if isinstance(t, bytes) else t


# -- the backend-neutral tree (index.querytree) ---------------------------------------------------


def parse_tree(text: str, vocabulary: Vocabulary | None = None,
               match: str = "all") -> qt.Node:
    """Query text -> ketlit's own parse tree (index.querytree), with the same parser and the
    same errors as QueryBuilder.build. Vocabulary expansion is left to the backend's compiler."""
    text = _query_text(text, match)
    vocab = vocabulary or load_vocabulary()
    node = Parser(text, "and" if match == "all" else "or", vocab).parse()
    return _to_tree(node, text, vocab)


def _to_tree(node: Node, query: str, vocab: Vocabulary) -> qt.Node:
    if isinstance(node, GroupNode):
        items = tuple(qt.Not(_to_tree(n, query, vocab)) if neg else _to_tree(n, query, vocab)
                      for neg, n in node.items)
        return qt.And(items) if node.op == "and" else qt.Or(items)
    assert isinstance(node, TermNode | PhraseNode)
    fields, tag, value = node.fields, node.tag, node.text.strip()
    if tag in KEY_TAGS and KEY_TAGS[tag] in LABEL_FACETS:
        return qt.Value(KEY_TAGS[tag], _evidence_label(KEY_TAGS[tag], value, query, node.pos, tag))
    if tag in KEY_TAGS:
        return qt.Value(KEY_TAGS[tag], value)
    if tag in AUTHOR_TAGS and _author_key(value):
        return qt.Value("au", value, prefix=True)
    if tag is None and fields is None and fold(value) in FILTER_WORDS:
        return qt.Value("sb", SUBSETS[fold(value)])
    if fields == ("year",):
        return _date_tree(value, tag, query, node.pos)
    if fields and fields[0] in KEYWORD_FIELDS:
        if fields == ("pubtype",):
            return qt.Value("pubtype", vocab.publication_type(value).lower())
        if fields == ("lang",):
            return qt.Value("lang", vocab.language(value))
        return qt.Value(fields[0], value)
    if isinstance(node, PhraseNode):
        return qt.Phrase(tuple(value.split()), fields, tag, slop=node.slop - 1)
    if _is_wild(value) and value.endswith("*") and "*" not in value[:-1]:
        return qt.Prefix(value[:-1], fields, tag)
    return qt.Term(value, fields, tag, stemmed=_stemmed(fields))


def _evidence_label(facet: str, value: str, query: str, pos: int, tag: str) -> str:
    """The annotation label a tagged value names, or a QueryError listing the known ones."""
    if not value.strip():
        raise _err(query, pos, f"[{tag}] has nothing before it")
    try:
        return normalise_label(facet, value)
    except ValueError as exc:
        raise _err(query, pos, f"{exc} in {value}[{tag}]") from None


def _date_tree(value: str, tag: str | None, query: str, pos: int) -> qt.Node:
    """The same reading of a date as year_query, as inclusive yyyymmdd bounds."""
    year_query(value, lambda what: _err(query, pos, what),
               entrez=tag in ENTREZ_DATE_TAGS)  # validates, with the compiler's messages
    text = value.replace(" ", "").replace('"', "")
    lo_s, sep, hi_s = (text.partition(":") if ":" in text else
                       (text.partition("-") if re.match(r"^\d{4}-\d{4}$", text) else
                        (text, "", "")))
    lo = _date_bound(lo_s, upper=False) if lo_s else None
    hi = _date_bound(hi_s if sep else lo_s, upper=True) if (hi_s or not sep) else None
    return qt.DateRange(lo[1] if lo else None, hi[1] if hi else None,
                        "edate" if tag in ENTREZ_DATE_TAGS else "pdate")
