"""Apply the annotation rules of rules.yaml to one Article.

A task (design, route, ...) is an ordered list of rules; a rule names a label, the parts of the
record it reads (title, abstract, text = both, pubtypes, mesh, keywords, meta = the three indexed
vocabularies) and regular expressions that must (``any``) or must not (``unless``) match there,
optionally only when an earlier task already chose some label (``when``). In ``first`` mode the
first matching rule decides; in ``all`` mode every matching rule adds its label. ``drop`` removes
labels made redundant by others (racemic ketamine when only esketamine is named). A label starting
with "_" is a marker: later rules can test it, but it is never output ("_healthy-title"). Overrides at the
end apply whole-record facts (a systematic review has no route, control, phase or sample).

Every pattern is compiled once per process (lru_cache on the rules file), and each rule's patterns
are one alternation, so a record costs one regex scan per rule: well under a millisecond.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from index.article import Article
from index.errors import ConfigError

RULES_PATH = Path(__file__).with_name("rules.yaml")
ANNOTATION_KEYS = ("design", "route", "drug", "condition", "participants", "phase", "control",
                   "registry")
_SOURCES = ("title", "abstract", "text", "focus", "pubtypes", "mesh", "keywords", "meta", "all")


@dataclass(frozen=True)
class Rule:
    label: str
    sources: tuple[str, ...]
    pattern: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    anchors: tuple[str, ...] | None  # lower-case literals one of which any match contains
    case: bool  # matched on the text as written (else on its lower-cased twin)
    when: tuple[tuple[str, frozenset[str]], ...]  # (task, labels): any of them already chosen
    when_not: tuple[tuple[str, frozenset[str]], ...]
    # each alternative of ``any`` on its own, with the literal every match of it contains (or
    # None): a record pays a regex scan only for alternatives whose literal it contains
    alts: tuple[tuple[str | None, re.Pattern[str]], ...]


@dataclass(frozen=True)
class Task:
    name: str
    mode: str  # "first" or "all"
    rules: tuple[Rule, ...]
    default: tuple[str, ...]
    drop: tuple[tuple[str, frozenset[str]], ...]  # drop label when any of these labels is present


@dataclass(frozen=True)
class Count:
    patterns: tuple[re.Pattern[str], ...]  # group counts, each with a group named n
    sizes: tuple[re.Pattern[str], ...]  # "n = 12" group sizes
    total: tuple[re.Pattern[str], ...]  # "a total of N": preferred when present
    share: re.Pattern[str] | None  # "(56%": group p, a share of the sample ...
    implied: re.Pattern[str] | None  # "29 patients" just before it (group n): n*100/p people
    words: dict[str, int]
    maximum: int
    ignore: re.Pattern[str] | None  # a number followed by this is not people (mg, years...)


@dataclass(frozen=True)
class Focus:
    """Which abstract sentences describe the study itself rather than its background."""
    background: re.Pattern[str] | None  # a sentence opening a background run
    study: re.Pattern[str] | None  # a sentence that ends the background run


@dataclass(frozen=True)
class Rules:
    tasks: tuple[Task, ...]
    focus: Focus
    count: Count
    registry: re.Pattern[str] | None  # case-sensitive, on the text as written
    registry_keys: tuple[str, ...]  # lower-case literals one of which every id contains
    # (task, labels, set these, fill these when still empty)
    overrides: tuple[tuple[str, frozenset[str], dict[str, Any], dict[str, Any]], ...]


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
        elif c in ".^$*+?{}|":
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
    Words may carry a final "?" ("years?")."""
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


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"annotation rules: cannot read {path}: {exc}") from exc
    tasks = []
    for name, spec in raw["tasks"].items():
        rules = []
        for i, r in enumerate(spec.get("rules") or ()):
            where = f"{name} rule {i + 1} ({r.get('label')})"
            src = r.get("in", "text")
            sources = tuple([src] if isinstance(src, str) else src)
            if any(s not in _SOURCES for s in sources):
                raise ConfigError(f"annotation rules: {where}: unknown source in {sources}")
            case = bool(r.get("case"))
            keys = r.get("keys")
            anchors = (tuple(k.lower() for k in keys) if keys else _anchors(r.get("any")))
            rules.append(Rule(str(r["label"]), sources, _rx(r.get("any"), where, case),
                              _rx(r.get("unless"), where, case), anchors, case,
                              _conds(r.get("when")), _conds(r.get("when_not")),
                              _alts(r.get("any"), where, case)))
        drop = tuple((k, frozenset(v)) for k, v in (spec.get("drop") or {}).items())
        tasks.append(Task(name, spec.get("mode", "all"), tuple(rules),
                          tuple(spec.get("default") or ()), drop))
    c = raw["participants"]
    lists = {"{nouns}": _trie(c.get("nouns") or ()), "{skip}": _trie(c.get("skip") or ()),
             "{numwords}": _trie(str(w) for w in c.get("words") or ()
                                  if "-" not in str(w) and w != "hundred")}

    def fill(pattern: str) -> str:
        for key, value in lists.items():
            pattern = pattern.replace(key, value)
        return pattern

    for key in ("patterns", "total"):
        c[key] = [fill(p) for p in c.get(key) or ()]
    implied = c.get("implied") or {}
    implied_count = fill(implied.get("count") or "")
    count = Count(tuple(_rx(p, "participants") for p in c["patterns"]),
                  tuple(_rx(p, "participants sizes") for p in c.get("sizes") or ()),
                  tuple(_rx(p, "participants total") for p in c.get("total") or ()),
                  _rx(implied.get("share"), "participants implied share"),
                  _rx(implied_count, "participants implied count"),
                  {str(k).lower(): int(v) for k, v in c["words"].items()},
                  int(c.get("maximum", 10**7)), _rx(c.get("ignore"), "participants ignore"))
    reg = raw["registry"]
    overrides = tuple((o["task"], frozenset(o["labels"]), o.get("set") or {}, o.get("fill") or {})
                      for o in raw["overrides"])
    f = raw.get("focus") or {}
    focus = Focus(_rx(f.get("background"), "focus background"), _rx(f.get("study"), "focus study"))
    return Rules(tuple(tasks), focus, count, _rx(reg["any"], "registry", case=True),
                 tuple(k.lower() for k in reg["keys"]), overrides)  # type: ignore[arg-type]


def _focus(focus: Focus, abstract: str, low: str) -> tuple[str, str]:
    """The abstract without its background (as written, and lower-cased): the opening sentences
    (and any section a background label opens) up to the first sentence that speaks of this
    study ("we", "this study", "METHODS:", "patients were ..."). Background names conditions and
    drugs the study did not involve."""
    if focus.study is None or not abstract:
        return abstract, low
    kept: list[tuple[int, int]] = []
    background = True
    start = 0
    for m in [*_SENTENCE.finditer(low), None]:
        end = m.start(1) if m else len(low)
        sentence = low[start:end]
        if focus.background is not None and focus.background.match(sentence):
            background = True
        if background and focus.study.search(sentence):
            background = False
        if not background:
            kept.append((start, end))
        start = m.end() if m else end
    if len(kept) == 1 and kept[0] == (0, len(low)):
        return abstract, low
    return (" ".join(abstract[i:j] for i, j in kept), " ".join(low[i:j] for i, j in kept))


# Unicode hyphens and dashes read as ASCII ones, so "treatment‐resistant" and "twenty‐four" match
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2212]")


def _texts(art: Article, rules: Rules) -> dict[str, str]:
    """Each source as written and lower-cased ("~text"): rules match the lower-cased twin with
    lower-case patterns, several times faster than IGNORECASE scans."""
    title = _DASHES.sub("-", art.title or "")
    abstract = _DASHES.sub("-", art.abstract or "")
    ltitle, labstract = title.lower(), abstract.lower()
    focus, lfocus = _focus(rules.focus, abstract, labstract)
    pubtypes = "; ".join(art.publication_types)
    mesh = "; ".join(m.descriptor for m in art.mesh)
    keywords = "; ".join(art.keywords)
    meta = f"{pubtypes}; {mesh}; {keywords}" if pubtypes or mesh or keywords else ""
    out = {"title": title, "abstract": abstract, "text": f"{title}\n{abstract}",
           "focus": f"{title}\n{focus}", "pubtypes": pubtypes, "mesh": mesh,
           "keywords": keywords, "meta": meta, "all": f"{title}\n{abstract}\n{meta}",
           "~title": ltitle, "~abstract": labstract, "~text": f"{ltitle}\n{labstract}",
           "~focus": f"{ltitle}\n{lfocus}", "~pubtypes": pubtypes.lower(), "~mesh": mesh.lower(),
           "~keywords": keywords.lower(), "~meta": meta.lower()}
    out["~all"] = f"{out['~text']}\n{out['~meta']}"
    return out


def _matches(rule: Rule, texts: dict[str, str], chosen: dict[str, list[str]]) -> bool:
    for task, labels in rule.when:
        if not labels.intersection(chosen.get(task, ())):
            return False
    for task, labels in rule.when_not:
        if labels.intersection(chosen.get(task, ())):
            return False
    if rule.pattern is None:
        return True
    for s in rule.sources:
        low = texts["~" + s]
        if not low:
            continue
        if rule.anchors is not None and not any(a in low for a in rule.anchors):
            continue
        t = texts[s] if rule.case else low
        for anchor, rx in rule.alts:
            if (anchor is None or anchor in t) and rx.search(t):
                break
        else:
            continue
        if rule.unless is not None and rule.unless.search(t):
            continue
        return True
    return False


# sentence ends (the group: the space after the stop); no lookbehind, which sre scans slowly
_SENTENCE = re.compile(r"[.;!?](\s+)")
_FULL_STOP = re.compile(r"[.!?]\s+")  # counts: "(n = 10; ...), and 16 (...)" is one sentence
_PARENS = re.compile(r"\([^()]*\)")


def _participants(count: Count, text: str) -> int | None:
    """People studied: "a total of N" when written; else, sentence by sentence, the sum of the
    group counts it gives ("44 patients and 88 matched controls" is 132; counts in parentheses
    are subgroups and "n = " sizes are summed apart), and the largest sentence wins."""
    def value(tok: str) -> int | None:
        tok = tok.replace(",", "").replace(" ", "")
        if tok.isdigit():
            return int(tok)
        tens, _, unit = tok.partition("-")  # "ninety-five", "five-hundred"
        if unit:
            t, u = count.words.get(tens), count.words.get(unit)
            if t and unit == "hundred":
                return t * 100
            return t + u if t and u else None
        return count.words.get(tok)

    for rx in count.total:
        m = rx.search(text)
        if m:
            v = value(m.group("n"))
            if v and v <= count.maximum:
                return v
    # Each pattern scans the whole text once; matches are then grouped by sentence (offsets).
    starts = [0] + [m.end() for m in _FULL_STOP.finditer(text)]
    outside = _PARENS.sub(lambda m: " " * len(m.group(0)), text)  # same offsets
    groups: dict[int, dict[int, int]] = {}
    sizes: dict[int, dict[int, int]] = {}
    for pats, hay, into in ((count.patterns, outside, groups), (count.sizes, text, sizes)):
        for rx in pats:
            for m in rx.finditer(hay):
                at = m.start("n")
                if at and (hay[at - 1].isalnum() or hay[at - 1] == "."):  # "0.5 mg", "112", "often"
                    continue
                v = value(m.group("n"))
                if v and v <= count.maximum:
                    into.setdefault(bisect_right(starts, at), {})[at] = v
    best = max([_people(g.values()) for g in groups.values()]
               + [_people(g.values()) for g in sizes.values()], default=0)
    # A share of the sample ("29 patients (56%)") implies its size when no count says more.
    if count.share is not None and count.implied is not None:
        for s in count.share.finditer(text):
            m = count.implied.search(text, max(0, s.start() - 120), s.start())
            if m is None or (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == ".")):
                continue
            v, share = value(m.group("n")), float(s.group("p"))
            if v and 1 <= share < 100:
                best = max(best, round(v * 100 / share))
    return best or None


def _people(counts: Any) -> int:
    """The people one sentence counts: the sum of its groups ("44 patients and 88 controls"),
    unless one count is (about) the sum of two or more others: a whole and its parts ("117 subjects: 30
    current users, 29 former users, ..."; "n = 78 ... ketamine (n = 39) or midazolam (n = 39)")."""
    values = sorted(counts)
    top, rest = values[-1], sum(values[:-1])
    if len(values) > 2 and 0.9 * top <= rest <= top:
        return top
    return top + rest


def annotate(art: Article, rules: Rules | None = None) -> dict[str, Any]:
    """The annotations object for one record (plain JSON types, keys in ANNOTATION_KEYS)."""
    rules = rules or load_rules()
    texts = _texts(art, rules)
    chosen: dict[str, list[str]] = {}
    for task in rules.tasks:
        labels: list[str] = []
        chosen[task.name] = labels  # rules may depend on labels this task already chose
        for rule in task.rules:
            if rule.label in labels:
                continue
            if _matches(rule, texts, chosen):
                labels.append(rule.label)
                if task.mode == "first" and not rule.label.startswith("_"):
                    break
        for label, others in task.drop:
            if label in labels and others.intersection(labels):
                labels.remove(label)
        if not any(not label.startswith("_") for label in labels):
            labels.extend(task.default)
    # labels starting with "_" are markers later rules test (when/when_not); they are not output
    out: dict[str, Any] = {k: [x for x in chosen.get(k, []) if not x.startswith("_")]
                           for k in ANNOTATION_KEYS}
    out["participants"] = _participants(rules.count, texts["~text"])
    ids: list[str] = []
    hay = texts["text"] + "\n" + "\n".join(art.secondary_ids)
    if rules.registry is not None and any(k in hay.lower() for k in rules.registry_keys):
        for m in rules.registry.finditer(hay):
            rid = m.group(0).replace(" ", "")
            if rid not in ids:
                ids.append(rid)
    out["registry"] = ids
    for task, labels, settings, fills in rules.overrides:
        if labels.intersection(chosen.get(task, ())):
            out.update(settings)
            for key, value in fills.items():
                if out.get(key) in (None, []):
                    out[key] = value
    return out
