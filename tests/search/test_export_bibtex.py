"""BibTeX export, parsed back with bibtexparser v2."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import unicodedata
from pathlib import Path

import bibtexparser
import pybtex.database
import pytest
from bibtexparser import middlewares as mw
from pylatexenc.latex2text import LatexNodes2Text

from index.article import Article, Author
from search.export.base import expand_pages
from tests.search.export_cases import (
    all_cases,
    book_articles,
    by_pmid,
    every_shared_record,
    export,
    hard_cases,
    ingested_exports,
    ws,
)
from tests.search.outside_readers import need_tex

# The escapes ketlit writes that pylatexenc's default table does not know.
_MACROS = {r"\textless{}": "<", r"\textgreater{}": ">", r"\textbraceleft{}": "{",
           r"\textbraceright{}": "}", r"\textasciicircum{}": "^", r"\textasciitilde{}": "~",
           r"\textbackslash{}": "\\", r"\textbar{}": "|",
           # pylatexenc reads \textperiodcentered as a dot accent; LaTeX sets a middle dot
           r"{\textperiodcentered}": "\u00b7"}


def unlatex(value: str) -> str:
    out = []
    for part in re.split(r"(\\text[a-z]+\{\}|\{\\textperiodcentered\})", value):
        if part in _MACROS:
            out.append(_MACROS[part])
        else:
            out.append(LatexNodes2Text().latex_to_text(part))
    return dashes(ws("".join(out)))


def written(text: str) -> str:
    """What the export is documented to write for a character it cannot keep: format and
    private-use characters dropped, the APL alpha as alpha, the non-breaking hyphen as "-"."""
    text = "".join(c for c in text if c.isspace()
                   or unicodedata.category(c) not in ("Co", "Cf", "Cc"))
    return text.replace("\u237a", "\u03b1").replace("\u2011", "-")


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
        assert unlatex(_field(e, "title")) == dashes(ws(written(
            title[:-1] if title.endswith(".") else title)))
        names = _field(e, "author") or []
        assert len(names) == len(art.authors), art.pmid
        for a, n in zip(art.authors, names, strict=True):
            if a.collective:
                assert len(n.last) == 1 and n.last[0][0] == "{" and n.last[0][-1] == "}"
                assert unlatex(n.last[0]) == dashes(ws(written(a.collective)))
            else:
                assert unlatex(" ".join(n.von + n.last)) == a.last
        assert _field(e, "year") == (str(art.pub_year) if art.pub_year else None)
        assert _field(e, "volume") == art.volume
        # plainnat prints the DOI as text: LaTeX's specials are escaped (10.18388/abp.2017_1599)
        assert unlatex(_field(e, "doi") or "") == (art.doi or "")
        assert _field(e, "pmcid") == art.pmcid
        if not art.is_book:
            assert _field(e, "number") == art.issue
            assert unlatex(_field(e, "journal")) in ws(art.journal)
        if art.pages:
            assert _field(e, "pages") == expand_pages(art.pages).replace("-", "--")
        if art.abstract:
            assert unlatex(_field(e, "abstract")) == dashes(ws(written(art.abstract)))
        assert (_field(e, "note") or "").startswith("RETRACTED") == art.retracted


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
        if m.group(1) == "url":  # verbatim
            continue
        unescaped = re.sub(r"\\(?:[A-Za-z]+|[^A-Za-z])", "", m.group(2))  # commands, escapes
        # a DOI keeps the < > of old SICI DOIs (T1 prints them)
        specials = r"[&%$#_~^\\]" if m.group(1) == "doi" else r"[&%$#_~^<>\\]"
        assert not re.search(specials, unescaped), line


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


# -- issue 13 points 3 and 4: particles, markup, and a file that compiles ---------------------------

def _people(*authors: Author) -> Article:
    return Article(pmid="1", title="Names.", pub_year=2020, journal="J", authors=list(authors))


SURNAMES = [  # (PubMed LastName, ForeName)
    ("Caron de Fromentel", "Claude"), ("van der Berg", "Anna"), ("de la Cruz", "José"),
    ("de Souza e Silva", "Maria da Graça"), ("dos Santos", "João"), ("Pulido Guevara", "Ana"),
    ("Van Gogh", "Vincent"), ("Le Bihan", "Denis"), ("d'Angelo", "Maria"),
    ("Smith And Jones", "A"), ("Caron de Fromentel", None), ("van der Berg", None),
]


def test_particles_and_compound_surnames_split_as_the_record_does():
    art = _people(*(Author(last=last, fore=fore) for last, fore in SURNAMES))
    text = export([art], "bibtex")
    assert "{Caron de Fromentel}, Claude" in text and "de {Souza e Silva}, Maria da Gra" in text
    names = _field(_parse(text).entries[0], "author")
    assert len(names) == len(SURNAMES)
    for (last, fore), n in zip(SURNAMES, names, strict=True):
        assert unlatex(" ".join(n.von + n.last)) == last
        assert unlatex(" ".join(n.first)) == (fore or "")
    fromentel, berg = names[0], names[1]
    assert fromentel.von == [] and fromentel.last == ["{Caron de Fromentel}"]
    assert berg.von == ["van", "der"] and berg.last == ["Berg"]
    # pybtex, another reader, splits them the same way
    entry = pybtex.database.parse_string(text, "bibtex").entries[_parse(text).entries[0].key]
    people = entry.persons["author"]
    assert [" ".join(p.prelast_names + p.last_names) for p in people][:3] == [
        "{Caron de Fromentel}", "van der Berg", "de la Cruz"]


def test_title_markup_becomes_latex_commands_and_mathml_readable_text():
    tert = by_pmid(next(a.pmid for a in all_cases() if a.title_html and "TERT" in a.title_html))
    title = _field(_parse(export([tert], "bibtex")).entries[0], "title")
    assert r"\textit{TERT}" in title and "<i>" not in title
    art = Article(pmid="2", title="CO2 at 10-3 M in vivo: bold, under and VO2max.",
                  title_html=("CO<sub>2</sub> at 10<sup>-3</sup> M <i>in vivo</i>: <b>bold</b>, "
                              "<u>under</u> and VO2max."), pub_year=2020, journal="J")
    title = _field(_parse(export([art], "bibtex")).entries[0], "title")
    assert title == (r"{CO}\textsubscript{2} at 10\textsuperscript{-3} {M} \textit{in vivo}: "
                     r"\textbf{bold}, \underline{under} and {VO2max}")
    # the plain-text formats stay plain
    assert "CO2 at 10-3 M in vivo" in export([art], "ris")
    assert "<sub>" not in export([art], "ris") + export([art], "medline") + export([art], "text")


def test_bibtex_output_is_ascii_with_latex_for_everything_else():
    text = export(every_record(), "bibtex")
    assert text.isascii()
    assert r"{A{\ensuremath{\beta}}}" in text  # "Aβ strains" (PubMed 32437181 or similar)
    assert "engine-{}-merging" in text  # PubMed's "--" stays two hyphens


def test_pybtex_reads_every_entry_with_every_author():
    arts = every_record()
    for fmt in ("bibtex", "biblatex"):
        data = pybtex.database.parse_string(export(arts, fmt), "bibtex")
        assert len(data.entries) == len(arts)
        for art, entry in zip(arts, data.entries.values(), strict=True):
            assert entry.fields["pmid"] == art.pmid
            assert len(entry.persons.get("author", [])) == len(art.authors), art.pmid


def every_record() -> list[Article]:
    """Every record of ../shared/data/pubmed (every XML record element, repeats included, the
    cassettes' and every MEDLINE file's records) and the hard cases."""
    return [*every_shared_record(), *hard_cases()]


def test_every_record_is_every_record_the_manifest_counts():
    # MANIFEST.md: 392 record elements in the XML files, 6 in the cassettes, 8 in MEDLINE format
    assert len(every_shared_record()) == 392 + 6 + 8


def torture_record() -> Article:
    """Characters pdflatex cannot set from UTF-8, markup, particles and specials at once."""
    return Article(
        pmid="99999999",
        title=("Δ9-THC, α2δ and β-arrestin at ≥ 5 µg/kg → ↑ BDNF (≈ 2×, ± 1 SD, ∼ 3 ‰, 37 ℃, "
               "Ω, ≲ 1, ⩾ 2) in 抑郁症 and Депрессия: toolkits--a brief overview, \ue009 "
               "x\u0301 ½ ⅓ x² ᵃ ♀ ✓ 🧠 50% & $1 #2 _ { } ~ ^ \\ < > | ,, ?`."),
        title_html=("Δ9-THC, α<sub>2</sub>δ and <i>β</i>-arrestin at ≥ 5 µg/kg → ↑ "
                    "<b>BDNF</b> (≈ 2×, ± 1 SD, ∼ 3 ‰, 37 ℃, Ω, ≲ 1, ⩾ 2) in 抑郁症 and "
                    "Депрессия: toolkits--a brief <u>overview</u>, \ue009 x\u0301 ½ ⅓ x² ᵃ ♀ ✓ "
                    "🧠 50% &amp; $1 #2 _ { } ~ ^ \\ &lt; &gt; | ,, ?`."),
        abstract="Ψ ≥ ∞ and “quotes” — with a long line " + "word " * 400,
        authors=[Author(last="Caron de Fromentel", fore="Élodie"),
                 Author(last="Øster-Ødegård", fore="Ægir"), Author(last="Ibáñez", fore="Ñuño"),
                 Author(last="van der Berg", fore="Łukasz"),
                 Author(collective="ENIGMA Consortium, Depression Working Group & α-Team")],
        journal="Revista Española de Psiquiatría & Salud Mental", pub_year=2024,
        pub_date="2024 Mar", volume="12", issue="3", pages="e123-45",
        doi="10.1000/a_b%c#d&e~f^g<h>", keywords=["α-synuclein", "Depression, Postpartum"])


# "bare:apalike": LaTeX's defaults (OT1, no inputenc), for a preamble that loads neither
STYLES = ["plain", "unsrt", "plainnat", "apalike", "plainnat+natbib,url", "bare:apalike"]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace",
                          timeout=300, check=False)


def compile_bib(work: Path, bib: str, style: str) -> tuple[str, str, str]:
    """pdflatex + bibtex + pdflatex x2 of a document citing every entry of ``bib`` (a .bib in
    ``work``) with a style ("plainnat+natbib,url": that style with those packages), as a user
    with [utf8]{inputenc} and [T1]{fontenc} would ("bare:": without them); asserts that nothing
    went wrong or was damaged on the way and returns (.blg, .log, .bbl)."""
    bare = style.startswith("bare:")
    bst, _, packages = style.removeprefix("bare:").partition("+")
    name = f"{bib}-{style}".replace("+", "-").replace(",", "-").replace(":", "-")
    (work / f"{name}.tex").write_text(
        "\\documentclass{article}\n"
        + ("" if bare else "\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n")
        + (f"\\usepackage{{{packages}}}\n" if packages else "")
        + f"\\begin{{document}}\n\\nocite{{*}}\n\\bibliographystyle{{{bst}}}\n"
        f"\\bibliography{{{bib}}}\n\\end{{document}}\n", encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name]
    assert _run(latex, work).returncode == 0
    bib_run = _run(["bibtex", name], work)
    blg = (work / f"{name}.blg").read_text(encoding="latin-1")
    assert bib_run.returncode in (0, 1), blg[-3000:]  # 1 = warnings, 2 = errors
    assert "error message" not in blg, blg[-3000:]
    entries = _parse((work / f"{bib}.bib").read_text(encoding="utf-8")).entries
    assert f"You've used {len(entries)} entries" in blg
    # what bibtex may say: the one warning the data makes true, a record without any author.
    # Everything else ("Too many commas in name", "I was expecting a `,'", "can't use both
    # author and editor fields", "There's a number but no volume", "empty journal", a repeated
    # entry, an unbalanced brace ...) means an entry reached the style damaged.
    authorless = {e.key for e in entries if "author" not in e.fields_dict}
    warnings = re.findall(r"^Warning--(.*)$", blg, re.M)
    assert all(re.fullmatch(r"empty author in (\w+)", w) and w.split()[-1] in authorless
               for w in warnings), warnings
    for _ in range(2):
        run = _run(latex, work)
        log = (work / f"{name}.log").read_text(encoding="latin-1")
        assert run.returncode == 0, log[-3000:]
    assert not re.search(r"^! ", log, re.M)
    # a glyph the font lacks, a character inputenc cannot set, a citation that did not resolve
    for damage in ("Missing character", "Unicode character", "undefined", "Undefined"):
        assert damage not in log, damage
    bbl = (work / f"{name}.bbl").read_text(encoding="latin-1")
    assert bbl.count("\\bibitem") == len(entries)
    return blg, log, bbl


@pytest.fixture(scope="module")
def latex_dir(tmp_path_factory):
    need_tex("pdflatex", "bibtex")
    return tmp_path_factory.mktemp("latex")


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_every_record_compiles_with_pdflatex_and_bibtex(latex_dir, style):
    """Every shared record plus a record of every hard character compiles with no error, no
    warning from bibtex but the true one, no error and no missing glyph from pdflatex."""
    refs = latex_dir / "refs.bib"
    if not refs.exists():
        refs.write_text(export([*every_record(), torture_record()], "bibtex"), encoding="utf-8")
    _, _, bbl = compile_bib(latex_dir, "refs", style)
    assert "-{}-" in bbl  # PubMed's "--" reaches the page as two hyphens


@pytest.mark.slow
@pytest.mark.parametrize("style", ["plain", "unsrt", "plainnat", "apalike"])
def test_ingested_then_exported_file_compiles(latex_dir, tmp_path_factory, style):
    """What a user does: `ketlit ingest` every shared XML and .nbib file, `ketlit export --format
    bibtex -o refs.bib`, and build it with each standard style."""
    exported = latex_dir / "ingested.bib"
    if not exported.exists():
        exported.write_text(ingested_exports(tmp_path_factory)["bibtex"], encoding="utf-8")
    _, _, bbl = compile_bib(latex_dir, "ingested", style)
    assert "\\textit{TERT}" in bbl  # PubMed's <i> reaches the page


SORTING = [("Dupont", "Marie"), ("Caron de Fromentel", "Claude"), ("Bernard", "Luc"),
           ("van der Berg", "Anna"), ("Fournier", "Paul")]

# Sorts by the family name without its particles, as biblatex does by default (useprefix=false)
# and as JabRef and Zotero file a creator: the split that decides where "Caron de Fromentel" goes.
LAST_SORT_BST = r"""
ENTRY { author } {} {}
FUNCTION {presort}
{ author #1 "{ll{ }}" format.name$ purify$ "l" change.case$ 'sort.key$ := }
FUNCTION {out} { "KEY|" cite$ * write$ newline$ }
READ
ITERATE {presort}
SORT
ITERATE {out}
"""


@pytest.mark.slow
def test_a_compound_surname_sorts_under_its_first_word(latex_dir):
    """"Caron de Fromentel" is filed under C (before Dupont), not under "Fromentel" (after
    Dupont and Fournier), by a sort on the family name, and by plain's sort on von + last."""
    arts = [dataclasses.replace(_people(Author(last=last, fore=fore)), pmid=str(n),
                                title=f"Study {n}.") for n, (last, fore) in enumerate(SORTING)]
    (latex_dir / "sorting.bib").write_text(export(arts, "bibtex"), encoding="utf-8")
    (latex_dir / "lastsort.bst").write_text(LAST_SORT_BST, encoding="utf-8")
    (latex_dir / "lastsort.aux").write_text(
        "\\citation{*}\n\\bibdata{sorting}\n\\bibstyle{lastsort}\n", encoding="utf-8")
    run = _run(["bibtex", "lastsort"], latex_dir)
    assert run.returncode == 0, run.stdout
    bbl = (latex_dir / "lastsort.bbl").read_text(encoding="latin-1")
    assert [line[4:] for line in bbl.splitlines() if line.startswith("KEY|")] == [
        "vanderberg2020study", "bernard2020study", "carondefromentel2020study",
        "dupont2020study", "fournier2020study"]
    _, _, plain = compile_bib(latex_dir, "sorting", "plain")  # von + last: "van der" under v
    assert re.findall(r"\\bibitem\{(\w+)\}", plain) == [
        "bernard2020study", "carondefromentel2020study", "dupont2020study",
        "fournier2020study", "vanderberg2020study"]


NAMES_BST = r"""
ENTRY { author } {} {}
INTEGERS { n i }
FUNCTION {names}
{ author num.names$ 'n :=
  #1 'i :=
  { i n #1 + < }
  { "NAME|" author i "{vv{ }}|{ll{ }}|{ff{ }}" format.name$ * write$ newline$
    i #1 + 'i := }
  while$
}
FUNCTION {article} { names }
FUNCTION {default.type} { names }
READ
ITERATE {call.type$}
"""


@pytest.mark.slow
def test_bibtex_itself_splits_names_as_the_record_does(tmp_path):
    """BibTeX's own name parser (format.name$ with a one-function style) gives back PubMed's
    surname as von + last, with no particle taken from inside a compound surname."""
    need_tex("bibtex")
    art = _people(*(Author(last=last, fore=fore) for last, fore in SURNAMES))
    (tmp_path / "names.bib").write_text(export([art], "bibtex"), encoding="utf-8")
    (tmp_path / "names.bst").write_text(NAMES_BST, encoding="utf-8")
    (tmp_path / "t.aux").write_text("\\citation{*}\n\\bibdata{names}\n\\bibstyle{names}\n",
                                    encoding="utf-8")
    run = _run(["bibtex", "t"], tmp_path)
    assert run.returncode == 0, run.stdout
    rows = [line.split("|")[1:] for line in
            (tmp_path / "t.bbl").read_text(encoding="latin-1").splitlines()
            if line.startswith("NAME|")]
    assert len(rows) == len(SURNAMES)
    for (last, fore), (von, family, given) in zip(SURNAMES, rows, strict=True):
        assert unlatex(" ".join(p for p in (von, family) if p)) == last
        assert unlatex(given) == (fore or "")
    assert rows[0][:2] == ["", "{Caron de Fromentel}"]  # sorts under C, not "Fromentel"
    assert rows[1][:2] == ["van der", "Berg"]
