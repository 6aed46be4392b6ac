"""Unicode and PubMed's inline markup as LaTeX (search.export.latex)."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pylatexenc.latex2text import LatexNodes2Text

from search.export.latex import (
    T1_LETTERS,
    _table,
    char_to_latex,
    html_to_latex,
    latex_title,
    text_to_latex,
)
from tests.search.outside_readers import need_tex


def test_greek_math_arrows_and_units_become_commands_and_nothing_stays_non_ascii():
    text = "α-synuclein β2 Δ9-THC ≥ 5 µg/kg ± 2 ≤ 3 → ← ∼ ≈ × · ° ™ ® μM − ‰ ℃ Ω"
    out = text_to_latex(text)
    assert out.isascii()
    for piece in (r"{\ensuremath{\alpha}}-synuclein", r"{\ensuremath{\beta}}2",
                  r"{\ensuremath{\Delta}}9-THC", r"{\ensuremath{\geq}} 5", r"{\textmu}g/kg",
                  r"{\ensuremath{\pm}}", r"{\ensuremath{\leq}}", r"{\textrightarrow}",
                  r"{\textleftarrow}", r"{\texttimes}", r"{\textdegree}",
                  r"{\ensuremath{\mu}}M", r"{\ensuremath{-}}"):
        assert piece in out, piece
    # every command is braced: BibTeX reads it as one "special character"
    assert not re.search(r"(?<!\{)\\(?!ensuremath)[A-Za-z]+", out.replace(r"\ensuremath", ""))


def test_accented_letters_are_braced_accent_commands():
    assert text_to_latex("Müller Øster-Ødegård Gonçalo Łukasz ı") == (
        r'M{\"u}ller {\O}ster-{\O}deg{\r{a}}rd Gon{\c{c}}alo {\L}ukasz {\i}')
    # a combining accent NFC cannot compose still lands on its letter
    assert text_to_latex("q\u0301") == r"{\'{q}}"


def test_double_hyphen_stays_two_hyphens_and_t1_ligatures_are_broken():
    assert text_to_latex("engine--merging a---b") == "engine-{}-merging a-{}-{}-b"
    assert LatexNodes2Text().latex_to_text(text_to_latex("engine--merging")) == "engine--merging"
    assert text_to_latex("x ,, y !` ?`") == "x ,{}, y !{}` ?{}`"


def test_specials_are_escaped():
    assert text_to_latex(r"50% & $x_i$ #1 {a} ~ ^ \ < > |") == (
        r"50\% \& \$x\_i\$ \#1 \textbraceleft{}a\textbraceright{} \textasciitilde{} "
        r"\textasciicircum{} \textbackslash{} \textless{} \textgreater{} \textbar{}")


def test_characters_without_a_latex_form():
    assert text_to_latex("a\ue009b\u200bc") == "abc"  # private use, zero-width space
    assert text_to_latex("x\u00b2 H\u2082O") == r"x{\texttwosuperior} H{\ensuremath{_2}}O"
    assert text_to_latex("x\u1d43 \u2153") == r"x\textsuperscript{a} 1/3"  # decomposed
    assert text_to_latex("\u2011") == "-"  # non-breaking hyphen (amsmath's \nobreakdash)
    assert text_to_latex("\u237a") == r"{\ensuremath{\alpha}}"  # APL alpha used for alpha
    assert text_to_latex("抑郁症") == "???"  # no pdflatex form: a visible mark that compiles
    assert text_to_latex("Депрессия") == "?????????"  # Cyrillic needs T2A fonts
    assert char_to_latex("\u01d6") == r'{\={{\"{u}}}}'  # decomposed: u, diaeresis, macron


def test_keep_leaves_t1_letters_as_utf8_and_converts_the_rest():
    out = text_to_latex("Müller α ≥ Øster ẞ", T1_LETTERS)
    assert out == r"Müller {\ensuremath{\alpha}} {\ensuremath{\geq}} Øster ẞ"


def test_markup_becomes_latex_commands():
    rich = "CO<sub>2</sub> and <i>in vivo</i> 10<sup>-3</sup> <b>bold</b> <u>under</u> &lt;5"
    assert html_to_latex(rich) == (r"CO\textsubscript{2} and \textit{in vivo} "
                                   r"10\textsuperscript{-3} \textbf{bold} \underline{under} "
                                   r"\textless{}5")
    assert html_to_latex("<i>crossed</b>") is None


def test_title_words_are_protected_around_markup_without_braces_opening_on_a_command():
    title = latex_title("Vitamin D3 and CO2 in Escherichia coli: NMDA, p-ERK",
                        "Vitamin D<sub>3</sub> and CO<sub>2</sub> in <i>Escherichia coli</i>: "
                        "NMDA, <i>p</i>-ERK")
    assert title == (r"Vitamin {D}\textsubscript{3} and {CO}\textsubscript{2} in "
                     r"\textit{Escherichia coli}: {NMDA,} \textit{p}{-ERK}")
    # braces opening on a command would be a BibTeX "special character", lower-cased by styles
    assert "{\\textit" not in title and "{\\textsub" not in title
    assert latex_title("a--b in PTSD") == "a-{}-b in {PTSD}"


@pytest.mark.slow  # runs kpsewhich
def test_t1_letters_are_what_latex_declares_for_t1():
    need_tex("kpsewhich")
    dfu = _kpsewhich("t1enc.dfu")
    assert dfu is not None, "TeX Live has no t1enc.dfu"
    declared = {chr(int(cp, 16)) for cp in re.findall(r"\\DeclareUnicodeCharacter\{([0-9A-F]+)\}",
                                                      Path(dfu).read_text(encoding="latin-1"))}
    letters = {c for c in declared if unicodedata.category(c).startswith("L")}
    assert letters == T1_LETTERS


def _kpsewhich(name: str) -> str | None:
    out = subprocess.run(["kpsewhich", name], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


PREAMBLE = "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"


@pytest.mark.slow
def test_every_character_the_table_writes_compiles_with_pdflatex(tmp_path):
    """Each entry of the filtered table, and each T1 letter kept as UTF-8, alone on a line of a
    bare article with [utf8]{inputenc} and [T1]{fontenc}: pdflatex reports no error."""
    need_tex("pdflatex")
    lines = [f"%U+{cp:04X}\nX{char_to_latex(chr(cp))}X\\par" for cp in sorted(_table())]
    lines += [f"%U+{ord(c):04X}\nX{c}X\\par" for c in sorted(T1_LETTERS)]
    tex = tmp_path / "chars.tex"
    tex.write_text(PREAMBLE + "\\begin{document}\n" + "\n".join(lines) + "\n\\end{document}\n",
                   encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "chars.tex"], cwd=tmp_path,
                         capture_output=True, text=True, errors="replace", check=False)
    log = (tmp_path / "chars.log").read_text(encoding="latin-1")
    source = tex.read_text(encoding="utf-8").split("\n")
    failing = [source[int(n) - 2] for n in re.findall(r"^l\.(\d+) ", log, re.M)]
    assert failing == [] and run.returncode == 0, failing[:20]
    assert "Missing character" not in log
