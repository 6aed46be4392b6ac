"""The one record type that travels through every stage: harvest, store, index, search, export.

Parsers build it, the store keeps it as JSON, the index writer turns it into a Whoosh document and
exporters read it. Nothing downstream ever sees an lxml element, a Biopython dict or a Whoosh hit.
Missing values are ``None`` (scalars) or empty (collections), never ``""``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Author:
    last: str | None = None
    fore: str | None = None
    initials: str | None = None
    collective: str | None = None  # a group author ("CollectiveName"); last/fore are then None
    affiliations: tuple[str, ...] = ()
    orcid: str | None = None

    @property
    def display(self) -> str:
        """"Smith J" as PubMed lists authors; the group name for a collective author."""
        if self.collective:
            return self.collective
        parts = [p for p in (self.last, self.initials) if p]
        return " ".join(parts) if parts else (self.fore or "")


@dataclass(frozen=True)
class MeshHeading:
    descriptor: str
    major: bool = False
    qualifiers: tuple[tuple[str, bool], ...] = ()  # (qualifier name, major topic)


@dataclass(frozen=True)
class Grant:
    """One GrantList/Grant (MEDLINE ``GR``): "R01 MH123456/MH/NIMH NIH HHS/United States"."""
    grant_id: str | None = None
    acronym: str | None = None
    agency: str | None = None
    country: str | None = None


@dataclass
class Article:
    pmid: str
    title: str | None = None
    abstract: str | None = None  # plain text; structured sections as "LABEL: text" paragraphs
    abstract_sections: list[tuple[str | None, str]] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    journal: str | None = None  # full title
    journal_iso: str | None = None
    issn: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pub_year: int | None = None
    pub_date: str | None = None  # as written, e.g. "2010 Sep-Oct"
    epub_date: str | None = None  # ISO YYYY-MM-DD where PubMed gives an electronic date
    doi: str | None = None
    pmcid: str | None = None
    languages: list[str] = field(default_factory=list)  # ISO 639-2 codes as PubMed writes them
    publication_types: list[str] = field(default_factory=list)
    mesh: list[MeshHeading] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    chemicals: list[str] = field(default_factory=list)
    retracted: bool = False
    retraction_pmids: list[str] = field(default_factory=list)  # the retraction notices' PMIDs
    concern_pmids: list[str] = field(default_factory=list)  # expressions of concern
    erratum_pmids: list[str] = field(default_factory=list)
    entrez_date: str | None = None  # ISO; when PubMed created the record (EDAT/CRDT)
    revised_date: str | None = None  # ISO; DateRevised
    topics: set[str] = field(default_factory=set)
    status: str | None = None  # MEDLINE, PubMed-not-MEDLINE, In-Process, Publisher...
    vernacular_title: str | None = None  # title in the original language
    other_abstracts: list[tuple[str | None, str]] = field(default_factory=list)  # (language, text)
    record_type: str = "article"  # "article" or "book" (PubmedBookArticle)
    book_title: str | None = None
    publisher: str | None = None
    publisher_location: str | None = None
    isbn: str | None = None
    editors: list[Author] = field(default_factory=list)
    bookaccession: str | None = None  # NBK id of a PubmedBookArticle
    # DataBankList as PubMed's MEDLINE SI field writes it: "ClinicalTrials.gov/NCT01234567"
    # (searched by [si]; trial registry ids for the evidence annotations).
    secondary_ids: list[str] = field(default_factory=list)
    # The title with PubMed's inline markup kept as HTML (<i>, <b>, <u>, <sup>, <sub>), when it
    # has any: exports that can hold markup use it; ``title`` stays the plain text.
    title_html: str | None = None
    # Typed ISSNs as PubMed gives them (Journal/ISSN IssnType, ISSNLinking; MEDLINE "IS - n (Print)");
    # ``issn`` above stays the one a citation shows (print, else electronic, else linking).
    issn_print: str | None = None
    issn_electronic: str | None = None
    issn_linking: str | None = None
    pii: str | None = None  # publisher item id (ELocationID/ArticleId "pii"; MEDLINE "[pii]")
    # Registry numbers beside ``chemicals`` (same order): "50-28-2", "EC 1.1.1.1", "0" for none
    chemical_numbers: list[str] = field(default_factory=list)
    country: str | None = None  # place of publication (MedlineJournalInfo/Country; MEDLINE PL)
    # PubMed's bookkeeping that MEDLINE export writes back (issue 13 point 5): grants (GR),
    # conflict-of-interest statement (COIS), copyright line (Abstract/CopyrightInformation; CI),
    # publication history (PubMedPubDate; PHST) as (status, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM")
    # in PubMed's order ("pubmed" is EDAT, "medline" MHDA, "entrez" CRDT), PublicationStatus
    # (PST: ppublish, epublish, aheadofprint), citation subsets (SB: IM, ...), the journal's NLM
    # id (JID) and DateCompleted (DCOM, ISO).
    grants: list[Grant] = field(default_factory=list)
    coi_statement: str | None = None
    copyright: str | None = None
    history: list[tuple[str, str]] = field(default_factory=list)
    publication_status: str | None = None
    citation_subsets: list[str] = field(default_factory=list)
    nlm_unique_id: str | None = None
    completed_date: str | None = None
    # Evidence annotations (index/annotations): design, route, drug, condition, participants,
    # phase, control, registry. Computed by the store whenever a record is written; None on a
    # record never stored (a parser's output) or stored before annotations existed.
    annotations: dict[str, Any] | None = None

    # -- serialisation: the record store keeps articles as JSON -----------------------------------

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, whose recursive deep copy was the largest
        # cost of storing a record during a harvest (0.16 -> ~0.03 ms per record); the JSON is
        # identical, which matters because the store compares it to spot unchanged records.
        d = {name: getattr(self, name) for name in _FIELD_NAMES}
        d["abstract_sections"] = [list(x) for x in self.abstract_sections]
        d["authors"] = [_author_dict(a) for a in self.authors]
        d["editors"] = [_author_dict(a) for a in self.editors]
        d["mesh"] = [{"descriptor": m.descriptor, "major": m.major,
                      "qualifiers": [list(q) for q in m.qualifiers]} for m in self.mesh]
        d["other_abstracts"] = [list(x) for x in self.other_abstracts]
        d["grants"] = [{k: getattr(g, k) for k in _GRANT_KEYS} for g in self.grants]
        d["history"] = [list(x) for x in self.history]
        for name in _LIST_FIELDS:
            d[name] = list(d[name])
        d["topics"] = sorted(self.topics)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in d.items() if k in known}
        data["authors"] = [_author(a) for a in data.get("authors") or []]
        data["editors"] = [_author(a) for a in data.get("editors") or []]
        data["mesh"] = [
            MeshHeading(
                descriptor=m["descriptor"],
                major=bool(m.get("major")),
                qualifiers=tuple((q[0], bool(q[1])) for q in m.get("qualifiers") or ()),
            )
            for m in data.get("mesh") or []
        ]
        data["abstract_sections"] = [tuple(s) for s in data.get("abstract_sections") or []]
        data["other_abstracts"] = [tuple(s) for s in data.get("other_abstracts") or []]
        data["grants"] = [g if isinstance(g, Grant) else Grant(**{k: g.get(k) for k in _GRANT_KEYS})
                          for g in data.get("grants") or []]
        data["history"] = [tuple(h) for h in data.get("history") or []]
        data["topics"] = set(data.get("topics") or ())
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Article:
        return cls.from_dict(json.loads(text))

    # -- conveniences used by search results and exporters ----------------------------------------

    @property
    def author_names(self) -> list[str]:
        return [a.display for a in self.authors if a.display]

    @property
    def mesh_terms(self) -> list[str]:
        return [m.descriptor for m in self.mesh]

    @property
    def is_book(self) -> bool:
        return self.record_type == "book"

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Article))
_LIST_FIELDS = ("languages", "publication_types", "keywords", "chemicals", "retraction_pmids",
                "concern_pmids", "erratum_pmids", "secondary_ids", "chemical_numbers",
                "citation_subsets")
_GRANT_KEYS = ("grant_id", "acronym", "agency", "country")


def _author_dict(a: Author) -> dict[str, Any]:
    return {"last": a.last, "fore": a.fore, "initials": a.initials, "collective": a.collective,
            "affiliations": list(a.affiliations), "orcid": a.orcid}


def _author(a: dict[str, Any] | Author) -> Author:
    if isinstance(a, Author):
        return a
    return Author(
        last=a.get("last"),
        fore=a.get("fore"),
        initials=a.get("initials"),
        collective=a.get("collective"),
        affiliations=tuple(a.get("affiliations") or ()),
        orcid=a.get("orcid"),
    )
