"""Parsing tokens (search.query_lexer) into the parser's nodes: terms, phrases and groups with
their positions, PubMed's rules for which words a tag takes, and errors that name the character
where the query goes wrong. search.query turns the nodes into ketlit's tree (index.querytree)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.errors import QueryError
from index.evidence import LABEL_FACETS, normalise_label
from index.pubtypes import is_pubmed_type
from search.query_lexer import Tok, lex, query_error
from search.query_syntax import (
    FIELDS,
    KEY_TAGS,
    MAX_DEPTH,
    NAME_PARTICLES,
    TAGS,
    known_tags,
)
from search.vocabulary import Vocabulary


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
            raise query_error(self.query, t.pos, "unbalanced parenthesis (')' without '(')")
        if t.kind != "EOF":
            raise query_error(self.query, t.pos, f"unexpected {t.text!r}")
        return node

    def parse_or(self) -> Node:
        start = self.peek().pos
        items = [(False, self.parse_and())]
        while self.peek().kind == "OR":
            op = self.take()
            if self.peek().kind in ("EOF", "RP", "OR", "AND"):
                raise query_error(self.query, op.pos, "OR has nothing on its right")
            items.append((False, self.parse_and()))
        return items[0][1] if len(items) == 1 else GroupNode(start, "or", items)

    def parse_and(self) -> Node:
        start = self.peek().pos
        t = self.peek()
        if t.kind in ("AND", "OR"):
            raise query_error(self.query, t.pos, f"{t.text} has nothing on its left")
        if t.kind in ("RP", "EOF"):
            raise query_error(self.query, t.pos, "expected a search term")
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
                    raise query_error(self.query, t.pos, "AND has nothing on its right")
                continue
            negated = False
            while self.peek().kind == "NOT":
                nt = self.take()
                if self.peek().kind in ("EOF", "RP", "OR", "AND"):
                    raise query_error(self.query, nt.pos, f"{nt.text} has nothing on its right")
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
                raise query_error(self.query, t.pos,
                           f"parentheses nested deeper than {MAX_DEPTH} levels")
            if self.peek().kind == "RP":
                raise query_error(self.query, t.pos, "empty parentheses")
            if self.peek().kind == "EOF":
                raise query_error(self.query, t.pos, "unbalanced parenthesis ('(' never closed)")
            inner = self.parse_or()
            if self.peek().kind != "RP":
                raise query_error(self.query, t.pos, "unbalanced parenthesis ('(' never closed)")
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
                raise query_error(self.query, t.pos, f"field '{t.text}:' has nothing after it")
            nodes = self.parse_unit()
            for node in nodes:
                _apply_fields(node, fields, t.text + ":")
            return nodes
        if t.kind == "TAG":
            raise query_error(self.query, t.pos, f"field tag [{t.text}] has no term before it")
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
        raise query_error(self.query, t.pos, f"unexpected {t.text!r}")

    def date_range(self, left: Node) -> Node:
        """PubMed's quoted range, "2023/01/01"[dp] : "2023/12/31"[dp], as 2023/01/01:2023/12/31."""
        colon = self.take()
        right = self.parse_unit() if self.peek().kind in ("WORD", "PHRASE") else []
        if len(right) != 1 or not _is_date_node(right[0]):
            raise query_error(self.query, colon.pos, "a date range needs a date on each side of ':'")
        assert isinstance(left, TermNode | PhraseNode)
        other = right[0]
        assert isinstance(other, TermNode | PhraseNode)
        tag = left.tag or other.tag
        if tag is None or (left.tag and other.tag and TAGS[left.tag] != TAGS[other.tag]):
            raise query_error(self.query, colon.pos,
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
                while n < len(words) and words[-n - 1].text.lower() in NAME_PARTICLES:
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
            raise query_error(self.query, tag.pos,
                       f"unknown field tag [{tag.text}] (known: {', '.join(known_tags())})")
        return TAGS[name], name


def _apply_fields(node: Node, fields: tuple[str, ...] | None, tag: str) -> None:
    if isinstance(node, GroupNode):
        for _neg, child in node.items:
            _apply_fields(child, fields, tag)
    elif isinstance(node, TermNode | PhraseNode) and node.tag is None:
        node.fields, node.tag = fields, tag


def _is_publication_type(vocab: Vocabulary, name: str) -> bool:
    folded = " ".join(name.lower().split())
    return is_pubmed_type(folded) or folded in vocab.publication_types


_DATE_TEXT = re.compile(r"^\s*\d{4}(?:[/-]\d{1,2}){0,2}\s*$")


def _is_date_node(node: Node) -> bool:
    return (isinstance(node, TermNode | PhraseNode) and bool(_DATE_TEXT.match(node.text))
            and node.fields in (None, ("year",)))


def _looks_like_initials(word: str) -> bool:
    return word.isalpha() and len(word) <= 3 and (word.isupper() or len(word) <= 2)


def author_key(text: str) -> bool:
    """An author written as a surname and initials ("Krystal J"): matched as PubMed does, the
    initials as a prefix of the record's ("Krystal JH"), against whole author names."""
    words = text.split()
    return len(words) >= 2 and _looks_like_initials(words[-1].rstrip("*"))

