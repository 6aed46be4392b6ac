"""BibTeX export, parsed back with bibtexparser v2."""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser import middlewares as mw
from pylatexenc.latex2text import LatexNodes2Text

from index.article import Article
from search.export.base import expand_pages
from tests.search.export_cases import all_cases, book_articles, by_pmid, export, hard_cases, ws

# The escapes ketlit writes that pylatexenc's default table does not know.
_MACROS = {r"\textless{}": "<", r"\textgreater{}": ">", r"\textbraceleft{}": "{",
           r"\textbraceright{}": "}", r"\textasciicircum{}": "^", r"\textasciitilde{}": "~",
           r"\textbackslash{}": "\\"}


def unlatex(value: str) -> str:
    out = []
    for part in re.split(r"(\\text[a-z]+\{\})", value):
        if part in _MACROS:
            out.append(_MACROS[part])
        else:
            out.append(LatexNodes2Text().latex_to_text(part))
    return dashes(ws("".join(out)))


def dashes(text: str) -> str:
    """TeX sets PubMed's ASCII dashes "--"/"---" as en/em dashes: count them as the same text."""
    return text.replace("\u2014", "---").replace("\u2013", "--")


def _parse(text: str):
    lib = bibtexparser.parse_string(
        text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()])
    return lib


def _field(entry, name: str):
    f = entry.fields_dict.get(name)
    return f.value if f is not None else None


def test_bibtexparser_parses_every_entry_with_the_same_fields():
    arts = all_cases()
    lib = _parse(export(arts, "bibtex"))
    assert lib.failed_blocks == []
    assert len(lib.entries) == len(arts)
    assert len({e.key for e in lib.entries}) == len(arts)
    for art, e in zip(arts, lib.entries, strict=True):
        assert _field(e, "pmid") == art.pmid
        assert e.entry_type == ("article" if not art.is_book else
                                "book" if art.title == art.book_title else "incollection")
        title = art.title or art.vernacular_title or art.book_title
        assert unlatex(_field(e, "title")) == dashes(ws(title[:-1] if title.endswith(".")
                                                         else title))
        names = _field(e, "author") or []
        assert len(names) == len(art.authors), art.pmid
        for a, n in zip(art.authors, names, strict=True):
            if a.collective:
                assert n.last == ["{" + _latex_plain(a.collective) + "}"]
            else:
                assert unlatex(" ".join(n.von + n.last)) == a.last
        assert _field(e, "year") == (str(art.pub_year) if art.pub_year else None)
        assert _field(e, "volume") == art.volume
        assert _field(e, "doi") == art.doi
        assert _field(e, "pmcid") == art.pmcid
        if not art.is_book:
            assert _field(e, "number") == art.issue
            assert unlatex(_field(e, "journal")) in ws(art.journal)
        if art.pages:
            assert _field(e, "pages") == expand_pages(art.pages).replace("-", "--")
        if art.abstract:
            assert unlatex(_field(e, "abstract")) == dashes(ws(art.abstract))
        assert (_field(e, "note") or "").startswith("RETRACTED") == art.retracted


def _latex_plain(text: str) -> str:
    return text  # group names in the cases carry no TeX specials


def test_braces_balance_in_every_value_and_specials_are_escaped():
    text = export(all_cases(), "bibtex")
    for line in text.splitlines():
        m = re.match(r"^  (\w+) = \{(.*)\},?$", line)
        if not m:
            continue
        depth = 0
        for ch in m.group(2):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, line
        assert depth == 0, line
        if m.group(1) in ("doi", "url"):  # verbatim fields
            continue
        unescaped = re.sub(r"\\(?:[&%$#_]|text[a-z]+\{\})", "", m.group(2))
        assert not re.search(r"[&%$#_~^<>\\]", unescaped), line


def test_acronyms_and_capitalised_words_are_protected():
    art = next(a for a in hard_cases() if a.pmid == "90000009")
    e = _parse(export([art], "bibtex")).entries[0]
    title = _field(e, "title")
    for word in ("{NMDA}", "{COVID-19}", "{PTSD}", "{mRNA}", "{Parkinson's}", "{Mg2+}"):
        assert word in title, (word, title)
    assert title.startswith("Effects of")  # the opening capital needs no braces
    assert r"\&" in title and r"50\%" in title and r"\$x\_i\$" in title
    assert unlatex(title) == dashes(ws(art.title[:-1]))


def test_keys_are_readable_ascii_unique_and_stable():
    base = by_pmid("20729678")
    particles = next(a for a in hard_cases() if a.pmid == "90000003")
    arts = [base, base, base, particles]
    first = [e.key for e in _parse(export(arts, "bibtex")).entries]
    again = [e.key for e in _parse(export(arts, "bibtex")).entries]
    assert first == again
    assert first[:3] == ["coar2010zotero", "coar2010zoterob", "coar2010zoteroc"]
    assert first[3] == "vanderberg2010zotero"
    for key in (e.key for e in _parse(export(all_cases(), "bibtex")).entries):
        assert re.fullmatch(r"[a-z0-9]+", key), key
    umlaut = next(a for a in hard_cases() if a.pmid == "90000003")
    umlaut = type(umlaut)(**{**umlaut.__dict__, "authors": umlaut.authors[2:]})
    assert _parse(export([umlaut], "bibtex")).entries[0].key == "muller2010zotero"


def test_group_author_is_one_name_and_particles_stay_with_the_surname():
    art = next(a for a in hard_cases() if a.pmid == "90000003")
    names = _field(_parse(export([art], "bibtex")).entries[0], "author")
    assert len(names) == len(art.authors) == 8
    assert names[0].von == ["van", "der"] and names[0].last == ["Berg"]
    assert names[0].first == ["Anna"]
    assert names[3].von == ["de", "la"] and names[3].last == ["Cruz"]
    assert names[5].last == ["{Pulido Guevara}"] and names[5].first == []
    assert names[6].last == ["{ESKETINTRD3 Trial Investigators and the SUSTAIN Group, Inc.}"]


def test_keywords_keep_mesh_headings_with_commas_whole():
    art = by_pmid("20729678")
    art.mesh = [*art.mesh, type(art.mesh[0])("Depression, Postpartum")]
    kw = _field(_parse(export([art], "bibtex")).entries[0], "keywords")
    assert kw.split("; ") == [*(m.descriptor for m in art.mesh), *art.keywords]


def test_month_macro_and_retraction_note():
    retracted = hard_cases()[0]
    text = export([retracted], "bibtex")
    assert "  month = sep,\n" in text
    e = _parse(text).entries[0]
    assert _field(e, "note") == "RETRACTED publication; retraction notice PMID 90000099"


def test_book_and_chapter_entries():
    book, chapter = book_articles()
    lib = _parse(export([book, chapter], "bibtex"))
    b, c = lib.entries
    assert b.entry_type == "book" and _field(b, "publisher") == "BIOS Scientific Publishers"
    assert _field(b, "isbn") == "1859962521" and _field(b, "address") == "Oxford"
    assert c.entry_type == "incollection" and "GeneReviews" in _field(c, "booktitle")
    assert len(_field(c, "editor") or []) == len(chapter.editors) > 0


def test_no_author_no_year_still_gives_a_key():
    art = Article(pmid="1", title="The anatomy of a lonely record.")
    e = _parse(export([art], "bibtex")).entries[0]
    assert e.key == "anonanatomy"
