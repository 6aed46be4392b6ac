"""Search state carried in a URL, shared by the JSON API and the HTML page.

The page and /api/search use the same query-string names (q, topic, from, to, type, lang,
has_abstract, no_retracted, design, route, drug, condition, phase, min_participants, match, sort,
limit, page), so a bookmarked page URL and an API URL
describe the same search and can be turned into one another by changing the path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from index.errors import UsageError
from index.evidence import LABEL_FACETS, normalise_label

MATCHES = ("all", "any")
SORTS = ("relevance", "newest", "oldest")
RANKS = ("lexical", "hybrid")
PAGE_SIZES = (10, 20, 50, 100)
MAX_LIMIT = 100
MAX_PAGE = 10000
MAX_QUERY_LENGTH = 2000  # the API's limit too: a query past it is refused, never truncated
YEAR_MIN, YEAR_MAX = 1000, 2999
MAX_PARTICIPANTS = 10_000_000
_PMID = re.compile(r"^[0-9]{1,10}$")
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


@dataclass(frozen=True)
class SearchState:
    """One search as the URL holds it."""

    q: str = ""
    topics: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    has_abstract: bool = False
    no_retracted: bool = False
    match: str = "all"
    sort: str = "relevance"
    rank: str = ""  # "" : the config's search.rank
    limit: int = 20
    page: int = 1
    errors: tuple[str, ...] = field(default=(), compare=False)
    # Evidence annotations (index.evidence): labels per facet, at least N people.
    design: tuple[str, ...] = ()
    route: tuple[str, ...] = ()
    drug: tuple[str, ...] = ()
    condition: tuple[str, ...] = ()
    phase: tuple[str, ...] = ()
    min_participants: int | None = None

    @property
    def has_filters(self) -> bool:
        return bool(self.topics or self.year_from is not None or self.year_to is not None
                    or self.types or self.languages or self.has_abstract or self.no_retracted
                    or self.has_evidence_filters)

    @property
    def has_evidence_filters(self) -> bool:
        return bool(any(getattr(self, name) for name in LABEL_FACETS)
                    or self.min_participants is not None)

    @property
    def is_search(self) -> bool:
        # Words, filters or both: filters alone list every record they select (newest first);
        # only the bare page (neither) waits for input rather than listing the whole index.
        return bool(self.q.strip()) or self.has_filters

    @property
    def is_browse(self) -> bool:
        """Filters without words: nothing to rank by, so results come newest first."""
        return self.q.strip() in ("", "*")

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for SearchRequest (and export), as the CLI passes them."""
        return {"topics": list(self.topics), "year_from": self.year_from,
                "year_to": self.year_to, "types": list(self.types),
                "languages": list(self.languages), "has_abstract": self.has_abstract,
                "exclude_retracted": self.no_retracted,
                **{name: list(getattr(self, name)) for name in LABEL_FACETS},
                "min_participants": self.min_participants}

    def pairs(self, *, with_page: bool = True, with_filters: bool = True) -> list[tuple[str, str]]:
        """The state as query-string pairs, defaults left out so URLs stay short."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        if with_filters:
            out += [("topic", t) for t in self.topics]
            if self.year_from is not None:
                out.append(("from", str(self.year_from)))
            if self.year_to is not None:
                out.append(("to", str(self.year_to)))
            out += [("type", t) for t in self.types]
            out += [("lang", t) for t in self.languages]
            if self.has_abstract:
                out.append(("has_abstract", "1"))
            if self.no_retracted:
                out.append(("no_retracted", "1"))
            for name in LABEL_FACETS:
                out += [(name, v) for v in getattr(self, name)]
            if self.min_participants is not None:
                out.append(("min_participants", str(self.min_participants)))
        if self.match != "all":
            out.append(("match", self.match))
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if self.rank:
            out.append(("rank", self.rank))
        if self.limit != 20:
            out.append(("limit", str(self.limit)))
        if with_page and self.page != 1:
            out.append(("page", str(self.page)))
        return out

    def query_string(self, **changes: Any) -> str:
        state = replace(self, **changes) if changes else self
        return urlencode(state.pairs())


def check_year_range(year_from: int | None, year_to: int | None) -> None:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UsageError(f"from ({year_from}) is after to ({year_to}); swap them")


def parse_state(params: Mapping[str, Any] | Any) -> SearchState:
    """Read a page URL leniently: bad values are dropped and reported, never a crash.

    ``params`` is a Starlette QueryParams (or any mapping with ``getlist``).
    """
    errors: list[str] = []

    def one(name: str) -> str | None:
        values = params.getlist(name)
        return values[-1] if values else None

    def many(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))

    def integer(name: str, lo: int, hi: int) -> int | None:
        raw = (one(name) or "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            errors.append(f"{name}: expected a whole number, got {raw!r}")
            return None
        if not lo <= value <= hi:
            errors.append(f"{name}: expected a number from {lo} to {hi}, got {value}")
            return None
        return value

    def flag(name: str) -> bool:
        raw = (one(name) or "").strip().lower()
        if raw in _TRUE:
            return True
        if raw not in _FALSE:
            errors.append(f"{name}: expected 1 or 0, got {raw!r}")
        return False

    def choice(name: str, options: Iterable[str], default: str) -> str:
        raw = (one(name) or "").strip().lower()
        if not raw:
            return default
        if raw not in options:
            errors.append(f"{name}: expected one of {', '.join(options)}, got {raw!r}")
            return default
        return raw

    year_from = integer("from", YEAR_MIN, YEAR_MAX)
    year_to = integer("to", YEAR_MIN, YEAR_MAX)
    if year_from is not None and year_to is not None and year_from > year_to:
        errors.append(f"from ({year_from}) is after to ({year_to}); swapped them")
        year_from, year_to = year_to, year_from
    q = (one("q") or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(f"q: the query has {len(q)} characters, more than the {MAX_QUERY_LENGTH} "
                      "allowed; shorten it")
        q = ""
    evidence: dict[str, tuple[str, ...]] = {}
    for name in LABEL_FACETS:
        kept = []
        for value in many(name):
            try:
                kept.append(normalise_label(name, value))
            except ValueError as exc:
                errors.append(f"{name}: {exc}")
        evidence[name] = tuple(dict.fromkeys(kept))
    return SearchState(
        q=q,
        topics=many("topic"), year_from=year_from, year_to=year_to, types=many("type"),
        languages=many("lang"), has_abstract=flag("has_abstract"),
        no_retracted=flag("no_retracted"), match=choice("match", MATCHES, "all"),
        sort=choice("sort", SORTS, "relevance"), rank=choice("rank", RANKS, ""),
        limit=integer("limit", 1, MAX_LIMIT) or 20, page=integer("page", 1, MAX_PAGE) or 1,
        **evidence, min_participants=integer("min_participants", 0, MAX_PARTICIPANTS),
        errors=tuple(errors))


def parse_pmids(values: Iterable[str]) -> list[str]:
    """PMIDs from `pmids=1,2,3` and/or repeated `pmids=1&pmids=2`, order kept, duplicates dropped."""
    out: list[str] = []
    for value in values:
        for token in re.split(r"[\s,;]+", value):
            if not token:
                continue
            if not _PMID.match(token):
                raise UsageError(f"pmids: {token[:40]!r} is not a PMID (digits only, e.g. 31234567)")
            out.append(token)
    return list(dict.fromkeys(out))
