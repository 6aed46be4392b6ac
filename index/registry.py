"""The registries of names the CLI, the JSON API, the web page and the docs all read.

One list each, so a name and its label are written once (issue 14 point 4):

- ``FACETS``: the facet groups of a search answer (the ``facets`` object of the search JSON),
  in display order, each with its label and the filter that narrows by it (URL/API parameter,
  CLI option, SearchRequest field);
- ``FIELD_TAGS``: the PubMed field tags the query language understands, each with its label and
  its other spellings (search/query.py maps every spelling to the index's fields; a test checks
  that both lists agree).

Export formats have their registry beside their exporters (``search.export.EXPORT_FORMATS``):
index/ imports nothing from search/, and a format is nothing without its exporter class.

The evidence annotations' facets and tags (design, route, drug, condition, phase, participants)
are not written here: they come from ``index/evidence.py``, the one registry of their names,
titles and labels, so this list and that one cannot disagree.

To add a facet: append a :class:`Facet` here, count it in the backends (index/whoosh,
index/solr) and document it in README.md; the API's answer model, the page's filters, the CLI's
text output and the docs test pick it up from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.evidence import FACETS_BY_NAME, LABEL_FACETS


@dataclass(frozen=True)
class Facet:
    """One facet group.

    ``key``: its name in the search JSON's ``facets``; ``label``: what people read (page legend,
    CLI text, docs); ``param``: the URL/API query parameter that filters by it (None: no
    per-value filter, e.g. years filter by a range); ``option``: the CLI option doing the same;
    ``request_field``: the SearchRequest / Filters field it fills; ``description``: one line for
    the OpenAPI document."""

    key: str
    label: str
    param: str | None = None
    option: str | None = None
    request_field: str | None = None
    description: str = ""


def _evidence_facets() -> tuple[Facet, ...]:
    """The evidence facets of index/evidence.py: one per label facet (filtered by any of its
    labels), then participants (counted in bands, filtered by at least N people)."""
    by_label = tuple(
        Facet(name, FACETS_BY_NAME[name].title, name, f"--{name}", name,
              f"{FACETS_BY_NAME[name].title} of the evidence annotations: label -> count "
              f"({', '.join(FACETS_BY_NAME[name].labels[:3])}, ...).")
        for name in LABEL_FACETS)
    bands = FACETS_BY_NAME["participants"]
    return (*by_label, Facet(
        "participants", bands.title, "min_participants", "--min-participants",
        "min_participants",
        f"People studied, in bands: {', '.join(bands.labels)} (filter: at least N)."))


FACETS: tuple[Facet, ...] = (
    Facet("topic", "Topic", "topic", "--topic", "topics",
          "Results per configured topic."),
    Facet("year", "Publication year", None, None, None,
          "Results per publication year (filter with from/to, --from/--to)."),
    Facet("publication_type", "Publication type", "type", "--type", "types",
          "Results per publication type."),
    Facet("retracted", "Retracted", "no_retracted", "--no-retracted", "exclude_retracted",
          'How many results are retracted: {"true": n, "false": m}.'),
    *_evidence_facets(),
)


def facet_keys() -> tuple[str, ...]:
    """The facet groups' keys, in display order."""
    return tuple(f.key for f in FACETS)


def facet(key: str) -> Facet:
    for f in FACETS:
        if f.key == key:
            return f
    raise KeyError(key)


def facet_labels() -> dict[str, str]:
    return {f.key: f.label for f in FACETS}


@dataclass(frozen=True)
class FieldTag:
    """A PubMed field tag: ``tag`` as written between brackets (``tiab``), ``label`` (PubMed's
    name for it), ``aliases`` (other spellings PubMed accepts, same meaning)."""

    tag: str
    label: str
    aliases: tuple[str, ...] = ()
    example: str = ""

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.tag, *self.aliases)


FIELD_TAGS: tuple[FieldTag, ...] = (
    FieldTag("tiab", "Title/Abstract", ("title/abstract",), "nasal[tiab]"),
    FieldTag("ti", "Title", ("title",), "esketamine[ti]"),
    FieldTag("ab", "Abstract", ("abstract",), "dissociation[ab]"),
    FieldTag("tw", "Text Words", ("text word",), "anhedonia[tw]"),
    FieldTag("all", "All Fields", ("all fields",), "ketamine[all]"),
    FieldTag("au", "Author", ("author", "auth", "1au", "lastau", "fau", "full author name"),
             "Zarate CA[au]"),
    FieldTag("mh", "MeSH Terms", ("mesh", "mesh terms", "mh:noexp", "mesh:noexp",
                                  "mesh terms:noexp"), "Depressive Disorder[mh]"),
    FieldTag("majr", "MeSH Major Topic", ("mesh major topic", "majr:noexp",
                                          "mesh major topic:noexp"), "Ketamine[majr]"),
    FieldTag("sh", "MeSH Subheading", ("subheading",), "therapeutic use[sh]"),
    FieldTag("ot", "Other Term", ("kw", "keyword", "other term"), "rapid-acting[ot]"),
    FieldTag("nm", "Supplementary Concept", ("substance name",), "esketamine[nm]"),
    FieldTag("rn", "EC/RN Number", (), "690G0D6V8H[rn]"),
    FieldTag("pt", "Publication Type", ("publication type", "ptyp"),
             "randomized controlled trial[pt]"),
    FieldTag("dp", "Publication Date", ("pdat", "date - publication", "publication date"),
             "2020:2024[dp]"),
    FieldTag("edat", "Entrez Date", ("crdt", "date - entrez", "date - create"),
             "2024/01/01:2024/06/30[edat]"),
    FieldTag("ta", "Journal", ("journal", "jour"), "JAMA Psychiatry[ta]"),
    FieldTag("la", "Language", ("language", "lang"), "eng[la]"),
    FieldTag("si", "Secondary Source ID", ("secondary source id",), "NCT01234567[si]"),
    FieldTag("doi", "DOI", ("lid", "aid"), "10.1176/appi.ajp.2018.18020138[doi]"),
    FieldTag("is", "ISSN", ("issn",), "0002-953X[is]"),
    FieldTag("sb", "Subset", ("subset", "filter"), "free full text[sb]"),
    FieldTag("pmid", "PMID", ("uid",), "31234567[pmid]"),
    # ketlit's own: the evidence annotations' label facets (index/evidence.py), rct[design] ...
    *(FieldTag(name, FACETS_BY_NAME[name].title, (),
               f"{FACETS_BY_NAME[name].labels[0]}[{name}]") for name in LABEL_FACETS),
)


def tag_spellings() -> frozenset[str]:
    """Every tag spelling the registry lists (canonical and aliases)."""
    return frozenset(s for t in FIELD_TAGS for s in t.spellings)


def tags_line() -> str:
    """The canonical tags as help text writes them: ``[tiab], [ti], ...``."""
    return ", ".join(f"[{t.tag}]" for t in FIELD_TAGS)
