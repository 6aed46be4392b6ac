"""Snippets: the passage of an abstract with the most matched words, matches marked.

Words are matched through the index's analysis (index.analysis), so a search for "depression"
marks "depressive"; only whole written words are marked, and everything else is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from index.analysis import PROTECTED, TOKEN_RE, analyse

SNIPPET_CHARS = 240


@lru_cache(maxsize=200_000)
def _forms(word: str) -> frozenset[str]:
    """The analysed forms of one written word (cached: abstracts repeat their vocabulary)."""
    return frozenset(t.text for t in analyse(word, stop=False, protected=PROTECTED))


@lru_cache(maxsize=256)
def _prefix_re(terms: frozenset[str]) -> re.Pattern[str]:
    prefixes = sorted({t[:3] for t in terms if t}, key=len, reverse=True)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, prefixes)) + ")", re.I)


def make_snippet(text: str, terms: frozenset[str], width: int = SNIPPET_CHARS) -> str:
    """The passage of ``text`` with the most distinct matched words, matches in <mark>, the rest
    HTML-escaped. Words are matched through the index's analysis (a search for "depression"
    marks "depressive"), but only whole written words are marked.

    Our own rather than Whoosh's highlighter: that one re-analyses every abstract token by token
    through the analyzer pipeline, which cost about 75 ms per page of 20 hits (measured).
    """
    spans: list[tuple[int, int, frozenset[str]]] = []
    if terms:
        # Only words starting like a query term are analysed (a stem starts like its words);
        # scanning every word of every abstract cost ~10 ms per page.
        last_end = -1
        for c in _prefix_re(terms).finditer(text):
            if c.start() < last_end:
                continue
            m = TOKEN_RE.match(text, c.start())
            if m is None:
                continue
            last_end = m.end()
            hit = _forms(m.group(0)) & terms
            if hit:
                spans.append((m.start(), m.end(), hit))
    if not spans:
        if len(text) <= width:
            return html.escape(text, quote=False)
        return html.escape(text[:width].rsplit(" ", 1)[0], quote=False) + " \u2026"
    best, best_n = 0, -1
    for a in range(len(spans)):
        seen: set[str] = set()
        for b in range(a, len(spans)):
            if spans[b][1] - spans[a][0] > width:
                break
            seen |= spans[b][2]
        if len(seen) > best_n:
            best, best_n = a, len(seen)
    start = spans[best][0]
    lead, end = snippet_window(text, start, spans[best][1], width)
    out = ["\u2026 " if lead > 0 else ""]
    pos = lead
    for a, b, _hit in spans:
        if a < lead or b > end:
            continue
        out.append(html.escape(text[pos:a], quote=False))
        out.append("<mark>" + html.escape(text[a:b], quote=False) + "</mark>")
        pos = b
    out.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        out.append(" \u2026")
    return "".join(out)


def snippet_window(text: str, start: int, first_end: int, width: int) -> tuple[int, int]:
    """[lead, end) around a match at [start, first_end): some context before it, about ``width``
    characters in all, and both edges on word boundaries (a snippet never starts or ends inside
    a word; when no space is near, the edge moves outward to the next one)."""
    lead = max(0, start - width // 5)
    if lead > 0:
        space = max(text.rfind(" ", 0, lead + 1), text.rfind("\n", 0, lead + 1))
        if space >= 0 and start - space < width // 2:
            lead = space + 1
        else:  # no space close before: start at the first word after lead (or the match itself)
            nxt = text.find(" ", lead, start)
            lead = nxt + 1 if nxt >= 0 else start
    end = min(len(text), lead + width)
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", first_end, end)
        if space > first_end:
            end = space
        else:  # the match runs to the edge: finish the word it is in
            nxt = text.find(" ", end)
            end = nxt if nxt >= 0 else len(text)
    return lead, end
