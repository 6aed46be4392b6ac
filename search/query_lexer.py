"""Lexing query text into tokens: words, "phrases"~slop, [tags], parentheses, operators and
``field:`` prefixes, with the character offset of each token for error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.errors import QueryError
from search.query_syntax import FIELDS, MAX_SLOP


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


def query_error(query: str, pos: int, what: str) -> QueryError:
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
                raise query_error(query, i, 'unterminated phrase (no closing ")')
            tok = Tok("PHRASE", query[i + 1:end], i)
            i = end + 1
            m = _SLOP_RE.match(query, i)
            if m:
                if len(m.group(1)) > 6 or int(m.group(1)) > MAX_SLOP:
                    raise query_error(query, i, f"proximity ~{m.group(1)} is above the maximum of "
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
                raise query_error(query, i, "field tag opened with '[' is never closed")
            toks.append(Tok("TAG", query[i + 1:end].strip(), i))
            i = end + 1
            continue
        if ch == "]":
            raise query_error(query, i, "']' without a matching '['")
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

