"""Evidence annotations as the index, the filters and the pages see them (issue 16 points 2-3).

index/annotations computes a record's ``annotations`` (design, route, drug, condition,
participants, phase, control, registry) when it is stored. This module is the one place that
says how those values are indexed, filtered, counted and named:

- ``EVIDENCE_FACETS``: the annotation facets, each with its title and its known labels (the
  issue's vocabularies, plus any label the rules file can produce, so a label added to
  index/annotations/rules.yaml is filterable without touching code);
- ``evidence_keys``: the whole values a record is indexed under ("design:rct",
  "drug:esketamine", "participants:100-499"), in the namespaced ``keys`` every backend indexes,
  so a filter and a query tag (``rct[design]``) are one exact term;
- ``participants_band``: the sample-size bands counted as a facet;
- ``normalise_label``: a typed value (``RCT``, ``phase 3``, ``TRD``) to its label, or one error
  naming the known ones.

Backend-neutral: nothing here imports Whoosh or Solr.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class EvidenceFacet:
    name: str  # the annotation key, the facet key in search JSON, the [tag] and the URL parameter
    title: str  # as the page shows it
    labels: tuple[str, ...]  # the vocabulary, in its order
    aliases: tuple[tuple[str, str], ...] = ()  # (typed form, label)


# The vocabularies (issue 16 point 1). Labels the rules produce beyond these are added
# by known_labels().
EVIDENCE_FACETS: tuple[EvidenceFacet, ...] = (
    EvidenceFacet("design", "Study design", (
        "rct", "cohort", "real-world", "protocol", "systematic-review", "qualitative",
        "case-report", "case-series", "other"), (
        ("randomized-controlled-trial", "rct"), ("randomised-controlled-trial", "rct"),
        ("randomized", "rct"), ("randomised", "rct"), ("review", "systematic-review"),
        ("meta-analysis", "systematic-review"))),
    EvidenceFacet("route", "Route", (
        "oral", "intranasal", "intravenous", "intramuscular", "subcutaneous", "sublingual",
        "inhaled", "other", "unknown", "not-applicable"), (
        ("nasal", "intranasal"), ("iv", "intravenous"),
        ("im", "intramuscular"), ("sc", "subcutaneous"), ("po", "oral"))),
    EvidenceFacet("drug", "Drug", (
        "ketamine", "esketamine", "arketamine", "mdma", "lsd", "psilocybin",
        "psychedelic-mushrooms", "ayahuasca", "dmt", "5-meo-dmt", "mescaline", "ibogaine",
        "salvinorin-a", "combination", "analogue", "unknown"), (
        ("s-ketamine", "esketamine"), ("r-ketamine", "arketamine"), ("spravato", "esketamine"))),
    EvidenceFacet("condition", "Condition", (
        "depression", "treatment-resistant-depression", "bipolar-depression",
        "postpartum-depression", "suicidality", "ptsd", "ocd", "anxiety",
        "alcohol-use-disorder", "substance-use-disorder", "other-addiction", "eating-disorder",
        "other-psychiatric", "alzheimers", "dementia", "chronic-pain", "palliative",
        "recreational-use", "healthy-volunteers"), (
        ("trd", "treatment-resistant-depression"), ("mdd", "depression"),
        ("suicide", "suicidality"), ("alcohol", "alcohol-use-disorder"),
        ("aud", "alcohol-use-disorder"), ("sud", "substance-use-disorder"),
        ("pain", "chronic-pain"), ("healthy", "healthy-volunteers"))),
    EvidenceFacet("phase", "Trial phase", (
        "phase-1", "phase-2", "phase-3", "phase-4", "unknown", "not-applicable")),
    EvidenceFacet("participants", "Participants", (
        "<20", "20-49", "50-99", "100-499", "500+", "unknown", "not-applicable")),
)
FACETS_BY_NAME: dict[str, EvidenceFacet] = {f.name: f for f in EVIDENCE_FACETS}
# The facets a record is filtered by label (participants is filtered by --min-participants).
LABEL_FACETS: tuple[str, ...] = ("design", "route", "drug", "condition", "phase")
EVIDENCE_FACET_NAMES: tuple[str, ...] = tuple(f.name for f in EVIDENCE_FACETS)
# The evidence filters' names (SearchRequest, Filters, CLI options, API and URL parameters).
EVIDENCE_FILTER_KEYS: tuple[str, ...] = (*LABEL_FACETS, "min_participants")

# Sample-size bands: (label, lowest, highest) people, inclusive.
PARTICIPANT_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("<20", 0, 19), ("20-49", 20, 49), ("50-99", 50, 99), ("100-499", 100, 499),
    ("500+", 500, None))

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_PHASE_RE = re.compile(r"^(?:phase-?)?(i{1,3}|iv|[1-4])$")


def participants_band(value: Any) -> str:
    """The band of an annotations' ``participants``: a number, "not-applicable" (a review) or
    None (unknown)."""
    if isinstance(value, bool) or value is None:
        return "unknown"
    if isinstance(value, int):
        for label, lo, hi in PARTICIPANT_BANDS:
            if value >= lo and (hi is None or value <= hi):
                return label
        return "unknown"
    return "not-applicable" if value == "not-applicable" else "unknown"


def participants_number(annotations: Mapping[str, Any] | None) -> int | None:
    """The number of people studied, when the annotations give one."""
    value = (annotations or {}).get("participants")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def evidence_values(annotations: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Each evidence facet's values for one record: its labels, or its participants band.
    A record stored before annotations existed has none (and an "unknown" band)."""
    ann = annotations or {}
    out: dict[str, tuple[str, ...]] = {}
    for name in LABEL_FACETS:
        raw = ann.get(name) or ()
        if isinstance(raw, str):
            raw = (raw,)
        out[name] = tuple(dict.fromkeys(str(v) for v in raw if v))
    out["participants"] = (participants_band(ann.get("participants")),)
    return out


def evidence_keys(annotations: Mapping[str, Any] | None) -> list[str]:
    """The ``keys`` terms of a record's annotations: "design:rct", "participants:100-499"."""
    return [f"{name}:{v}" for name, values in evidence_values(annotations).items()
            for v in values]


def evidence_key(facet: str, label: str) -> str:
    return f"{facet}:{label}"


@lru_cache(maxsize=1)
def _rule_labels() -> dict[str, tuple[str, ...]]:
    """Labels the annotation rules can produce, by task (labels of rules, defaults, overrides)."""
    from index.annotations import load_rules

    try:
        rules = load_rules()
    except Exception:  # the rules' own errors are reported when records are annotated
        return {}
    out: dict[str, list[str]] = {}
    for task in rules.tasks:
        out.setdefault(task.name, []).extend([r.label for r in task.rules] + list(task.default))
    for _task, _labels, settings, fills in rules.overrides:
        for key, value in {**settings, **fills}.items():
            if isinstance(value, list):
                out.setdefault(key, []).extend(str(v) for v in value)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def known_labels(facet: str) -> tuple[str, ...]:
    """The labels a facet may hold: the issue's vocabulary, then any further ones the rules
    produce."""
    spec = FACETS_BY_NAME[facet]
    extra = () if facet == "participants" else _rule_labels().get(facet, ())
    return tuple(dict.fromkeys((*spec.labels, *extra)))


def normalise_label(facet: str, value: str) -> str:
    """A typed value as its label: case, spaces and underscores forgiven ("Phase 3", "phase_3",
    "3" and "III" are phase-3; "RCT" is rct), a few common names taken ("TRD", "nasal", "IV").
    ValueError naming the known labels when it is none of them."""
    spec = FACETS_BY_NAME[facet]
    known = known_labels(facet)
    text = re.sub(r"[\s_]+", "-", value.strip().lower()).strip("-")
    if facet == "phase":
        m = _PHASE_RE.match(text)
        if m:
            text = "phase-" + _ROMAN.get(m.group(1), m.group(1))
    text = dict(spec.aliases).get(text, text)
    if text in known:
        return text
    raise ValueError(f"unknown {facet} {value!r} (known: {', '.join(known)})")


def normalise_labels(facet: str, values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise_label(facet, v) for v in values))


def matches_evidence(annotations: Mapping[str, Any] | None,
                     filters: Mapping[str, Any]) -> bool:
    """Does a record pass the evidence filters (label lists by facet, min_participants)? The
    same selection the index makes, for lists that come from the store (``ketlit new``)."""
    values = evidence_values(annotations)
    for name in LABEL_FACETS:
        wanted = filters.get(name) or ()
        if wanted and not set(normalise_labels(name, list(wanted))) & set(values[name]):
            return False
    low = filters.get("min_participants")
    if low is not None:
        n = participants_number(annotations)
        if n is None or n < low:
            return False
    return True


def evidence_summary(annotations: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(facet title, "label, label") lines for a record page or a plain-text export, in the
    facets' order, leaving out what says nothing (unknown / not-applicable / empty)."""
    vals = evidence_values(annotations)
    out = []
    for spec in EVIDENCE_FACETS:
        if spec.name == "participants":
            n = participants_number(annotations)
            if n is not None:
                out.append((spec.title, str(n)))
            continue
        shown = [v for v in vals.get(spec.name, ()) if v not in ("unknown", "not-applicable")]
        if shown:
            out.append((spec.title, ", ".join(shown)))
    ann = annotations or {}
    for key, title in (("control", "Control"), ("registry", "Trial registry")):
        shown = [str(v) for v in ann.get(key) or () if v not in ("not-applicable",)]
        if shown:
            out.append((title, ", ".join(shown)))
    return out


def keyword_terms(annotations: Mapping[str, Any] | None) -> list[str]:
    """Annotations as keywords for reference managers (RIS KW, CSL-JSON keyword):
    "design: rct", "drug: esketamine", "participants: 120", "registry: NCT01234567".
    Unknown and not-applicable values are left out: they say nothing to a reader."""
    if not annotations:
        return []
    out = []
    for name in (*LABEL_FACETS, "control"):
        raw = annotations.get(name) or ()
        for v in ([raw] if isinstance(raw, str) else raw):
            if v and v not in ("unknown", "not-applicable"):
                out.append(f"{name}: {v}")
    n = participants_number(annotations)
    if n is not None:
        out.append(f"participants: {n}")
    out.extend(f"registry: {r}" for r in annotations.get("registry") or ())
    return out
