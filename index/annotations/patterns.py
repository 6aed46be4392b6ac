"""Compiling the patterns of rules.yaml: lower-case twins of each pattern, literal-first
alternatives, the literal every match contains (a cheap prefilter) and prefix-factored word lists.
These keep a record's annotation well under a millisecond (see engine.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from index.errors import ConfigError

RULES_PATH = Path(__file__).with_name("rules.yaml")


def _lower(pattern: str) -> str:
    """The pattern for lower-cased text: letters lowered, escapes (\\B, \\S, \\W) kept."""
    return re.sub(r"(\\.|\(\?P<)|([A-Z])", lambda m: m.group(1) or m.group(2).lower(), pattern)


_LEADING_B = re.compile(r"^\\b([A-Za-z0-9][A-Za-z0-9 ]*)")


def _fast(alternative: str) -> str:
    """``\\bword...`` as ``word(?<=\\bword)...``: the same matches, but sre scans for a pattern
    that opens with a literal with a fast substring search, and tries every position of the text
    for one that opens with an assertion (about 15 times slower on an abstract)."""
    m = _LEADING_B.match(alternative)
    if not m:
        return alternative
    lit = m.group(1)
    rest = alternative[m.end():]
    if rest[:1] in ("?", "*", "{", "+"):  # the last letter is quantified: keep it out
        lit, rest = lit[:-1], lit[-1] + rest
        if not lit:
            return alternative
    return f"{lit}(?<=\\b{lit}){rest}"


def _rx(parts: Any, where: str, case: bool = False) -> re.Pattern[str] | None:
    """One alternation of the parts. Unless ``case`` (a case-sensitive rule such as IV or IM),
    it is compiled for the lower-cased text: sre scans plain lower-case patterns several times
    faster than IGNORECASE ones."""
    if not parts:
        return None
    if isinstance(parts, str):
        parts = [parts]
    try:
        joined = "|".join(f"(?:{_fast(p)})" for p in parts)
        return re.compile(joined if case else _lower(joined))
    except re.error as exc:
        raise ConfigError(f"annotation rules: bad pattern in {where}: {exc}; fix {RULES_PATH}") from exc


def _anchor(alternative: str, lower: bool = True) -> str | None:
    """The longest literal run every match of this pattern must contain, lower-cased (unless
    ``lower`` is false: case-sensitive rules), or None when none is certain. Conservative:
    anything inside a group, class or quantified is skipped."""
    runs: list[str] = []
    cur: list[str] = []
    depth = 0
    i = 0
    n = len(alternative)
    while i < n:
        c = alternative[i]
        if c == "\\" and i + 1 < n:
            nxt = alternative[i + 1]
            lit = nxt if not nxt.isalnum() else None  # \. \( are literals; \b \d \s are not
            i += 2
            token = lit
        elif c == "(":
            depth += 1
            i += 1
            token = None
        elif c == ")":
            depth -= 1
            i += 1
            token = None
        elif c == "[":
            j = alternative.find("]", i + 2)
            i = (j + 1) if j > 0 else n
            token = None
        elif c == "|" and depth == 0:
            return None  # a top-level alternation inside one entry: no single anchor
        elif c == "{":
            # a counted repeat of what came before ("(?:\\w+ ){0,3}"): its digits are no text
            j = alternative.find("}", i + 1)
            i = (j + 1) if j > 0 else n
            token = None
        elif c in ".^$*+?}|":
            i += 1
            token = None
        else:
            i += 1
            token = c
        quantified = i < n and alternative[i] in "?*{"
        if token is None or depth > 0 or quantified:
            if cur:
                runs.append("".join(cur))
            cur = []
            if quantified and alternative[i] == "?":
                i += 1
            continue
        cur.append(token.lower() if lower else token)
    if cur:
        runs.append("".join(cur))
    best = max(runs, key=len, default="")
    return best if len(best) >= 2 else None


def _anchors(parts: Any) -> tuple[str, ...] | None:
    if not parts:
        return None
    if isinstance(parts, str):
        parts = [parts]
    found = [_anchor(p) for p in parts]
    if any(a is None for a in found):
        return None
    return tuple(dict.fromkeys(a for a in found if a))


def _alts(parts: Any, where: str, case: bool) -> tuple[tuple[str | None, re.Pattern[str]], ...]:
    if not parts:
        return ()
    if isinstance(parts, str):
        parts = [parts]
    out = []
    for part in parts:
        rx = _rx(part, where, case)
        assert rx is not None
        out.append((_anchor(part, lower=not case), rx))
    return tuple(out)


def _conds(raw: Any) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((k, frozenset([v] if isinstance(v, str) else v)) for k, v in (raw or {}).items())


def _trie(words: Any) -> str:
    """One regex for a list of literal words, its alternatives factored by common prefix
    ("pa(?:tients|rticipants)"): sre tries an alternation branch by branch, so a flat list of
    sixty nouns costs sixty tries at every place a count may end; the factored form costs a few.
    Words are literals (escaped)."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in str(word):
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) if ch else "" for ch, child in sorted(node.items())]
        if len(branches) == 1:
            return branches[0]
        optional = "" in branches
        body = "|".join(b for b in branches if b)
        return f"(?:{body})?" if optional else f"(?:{body})"

    return emit(tree)
