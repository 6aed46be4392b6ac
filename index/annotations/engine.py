"""Apply the annotation rules of rules.yaml to one Article.

A task (design, route, ...) is an ordered list of rules; a rule names a label, the parts of the
record it reads (title, abstract, text = both, pubtypes, mesh, keywords, meta = the three indexed
vocabularies) and regular expressions that must (``any``) or must not (``unless``) match there,
optionally only when an earlier task already chose some label (``when``). In ``first`` mode the
first matching rule decides; in ``all`` mode every matching rule adds its label. ``drop`` removes
labels made redundant by others (racemic ketamine when only esketamine is named). A label starting
with "_" is a marker: later rules can test it, but it is never output ("_healthy-title"). Overrides at the
end apply whole-record facts (a systematic review has no route, control, phase or sample).

Every pattern is compiled once per process (lru_cache on the rules file). Each alternative of a
rule is scanned only when the literal every match of it contains is in the text (patterns.py), so a
record costs a few regex scans per rule: under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from index.annotations.counts import Count, count_participants, load_count
from index.annotations.patterns import RULES_PATH, _alts, _anchors, _conds, _rx
from index.article import Article
from index.errors import ConfigError

ANNOTATION_KEYS = ("design", "route", "drug", "condition", "participants", "phase", "control",
                   "registry")
_SOURCES = ("title", "abstract", "text", "focus", "population", "pubtypes", "mesh", "keywords", "meta", "all")


@dataclass(frozen=True)
class Rule:
    label: str
    sources: tuple[str, ...]
    unless: tuple[tuple[str | None, re.Pattern[str]], ...]  # as ``alts``: each with its literal
    # a match does not count when its own sentence holds one of these ("randomized trials are
    # needed" asks for trials; the study's "patients were randomized" is one)
    veto: tuple[tuple[str | None, re.Pattern[str]], ...]
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
class Focus:
    """Which abstract sentences describe the study itself rather than its background."""
    background: re.Pattern[str] | None  # a sentence opening a background run
    study: re.Pattern[str] | None  # a sentence that ends the background run
    aside: re.Pattern[str] | None  # a phrase naming conditions the people studied do not have
    # a trial registry entry's own CONDITION section (group 1), case-sensitive, as written
    condition_section: re.Pattern[str] | None


@dataclass(frozen=True)
class Rules:
    tasks: tuple[Task, ...]
    focus: Focus
    count: Count
    registry: re.Pattern[str] | None  # case-sensitive, on the text as written
    registry_keys: tuple[str, ...]  # lower-case literals one of which every id contains
    # (task, labels, set these, fill these when still empty)
    overrides: tuple[tuple[str, frozenset[str], dict[str, Any], dict[str, Any]], ...]
    # (task, labels, counts below these are dropped before the overrides fill them)
    floors: tuple[tuple[str, frozenset[str], dict[str, int]], ...]


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
            rules.append(Rule(str(r["label"]), sources, _alts(r.get("unless"), where, case),
                              _alts(r.get("veto"), where, case), anchors, case, _conds(r.get("when")), _conds(r.get("when_not")),
                              _alts(r.get("any"), where, case)))
        drop = tuple((k, frozenset(v)) for k, v in (spec.get("drop") or {}).items())
        tasks.append(Task(name, spec.get("mode", "all"), tuple(rules),
                          tuple(spec.get("default") or ()), drop))
    count = load_count(raw["participants"])
    reg = raw["registry"]
    overrides = tuple((o["task"], frozenset(o["labels"]), o.get("set") or {}, o.get("fill") or {})
                      for o in raw["overrides"])
    floors = tuple((o["task"], frozenset(o["labels"]),
                    {k: int(v) for k, v in o["below"].items()})
                   for o in raw["overrides"] if o.get("below"))
    f = raw.get("focus") or {}
    focus = Focus(_rx(f.get("background"), "focus background"), _rx(f.get("study"), "focus study"),
                  _rx(f.get("aside"), "focus aside"),
                  _rx(f.get("condition_section"), "focus condition_section", case=True))
    return Rules(tuple(tasks), focus, count, _rx(reg["any"], "registry", case=True),
                 tuple(k.lower() for k in reg["keys"]), overrides, floors)  # type: ignore[arg-type]


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
    # The population: the study's own sentences without the asides that name conditions the
    # people studied do not have ("a family history of alcoholism", "disorders such as ...").
    # (Lower-case only, the twin rules match: the patterns are lower-case, so masking the text as
    # written would miss capitalised asides.)
    lpopulation = f"{ltitle}\n{lfocus}"
    # A registry entry (ClinicalTrials.gov, EU CTR, ANZCTR flattened into the abstract) says
    # which condition it enrols in its CONDITION section; its outcome measures and exclusion
    # criteria name others ("anxiety (GAD-7)", "no PTSD").
    section = (rules.focus.condition_section.search(abstract)
               if rules.focus.condition_section is not None else None)
    if section is not None:
        lpopulation = f"{ltitle}\n{section.group(1).lower()}"
    if rules.focus.aside is not None:
        lpopulation = rules.focus.aside.sub(" ", lpopulation)
    out = {"title": title, "abstract": abstract, "text": f"{title}\n{abstract}",
           "focus": f"{title}\n{focus}", "population": lpopulation, "~population": lpopulation, "pubtypes": pubtypes, "mesh": mesh,
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
    if not rule.alts:  # a rule of conditions (when/when_not) alone
        return True
    for s in rule.sources:
        low = texts["~" + s]
        if not low:
            continue
        if rule.anchors is not None and not any(a in low for a in rule.anchors):
            continue
        t = texts[s] if rule.case else low
        for anchor, rx in rule.alts:
            if (anchor is None or anchor in t) and (
                    _unvetoed(rx, t, rule.veto) if rule.veto else rx.search(t)):
                break
        else:
            continue
        if rule.unless and _found(rule.unless, t):
            continue
        return True
    return False


def _found(alts: tuple[tuple[str | None, re.Pattern[str]], ...], text: str) -> bool:
    # each alternative scanned only when its literal is in the text: one joined alternation
    # that opens with a group is tried at every position of the text, far slower
    return any((a is None or a in text) and rx.search(text) for a, rx in alts)


_SENTENCE_ENDS = (". ", "; ", "? ", "! ", "\n")


def _unvetoed(rx: re.Pattern[str], text: str, veto: tuple[tuple[str | None, re.Pattern[str]], ...]) -> bool:
    """Whether some match of rx lies in a sentence none of the veto patterns match. A sentence
    ends at a stop followed by a space or at a line break, so "0.5 mg" does not end one."""
    for m in rx.finditer(text):
        start = max(text.rfind(e, 0, m.start()) for e in _SENTENCE_ENDS) + 1
        ends = [j for j in (text.find(e, m.end()) for e in _SENTENCE_ENDS) if j >= 0]
        if not _found(veto, text[start:min(ends, default=len(text))]):
            return True
    return False


# sentence ends (the group: the space after the stop); no lookbehind, which sre scans slowly
_SENTENCE = re.compile(r"[.;!?](\s+)")
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
    out["participants"] = count_participants(rules.count, texts["~text"])
    ids: list[str] = []
    hay = texts["text"] + "\n" + "\n".join(art.secondary_ids)
    if rules.registry is not None and any(k in hay.lower() for k in rules.registry_keys):
        for m in rules.registry.finditer(hay):
            rid = m.group(0).replace(" ", "")
            if rid not in ids:
                ids.append(rid)
    out["registry"] = ids
    for task, labels, below in rules.floors:
        if labels.intersection(chosen.get(task, ())):
            for key, least in below.items():
                v = out.get(key)
                if isinstance(v, int) and v < least:
                    out[key] = None
    for task, labels, settings, fills in rules.overrides:
        if labels.intersection(chosen.get(task, ())):
            out.update(settings)
            for key, value in fills.items():
                if out.get(key) in (None, []):
                    out[key] = value
    return out
