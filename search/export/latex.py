"""Unicode text and PubMed's inline markup written as LaTeX that pdflatex typesets.

Used by the BibTeX and biblatex exports. Two modes:

- ASCII (``keep=frozenset()``, the classic BibTeX export): every character outside ASCII becomes a
  LaTeX command in braces (``é`` -> ``{\\'e}``, ``ø`` -> ``{\\o}``, ``α`` ->
  ``{\\ensuremath{\\alpha}}``, ``µ`` -> ``{\\textmu}``, ``≥`` -> ``{\\ensuremath{\\geq}}``). BibTeX
  0.99 counts bytes, not characters: given raw UTF-8 it cuts "Élodie" to a broken byte when a
  style abbreviates given names (apalike's ``{f.}``, and pdflatex then stops on the invalid
  UTF-8), and it sorts "Müller" after "Mz". A braced command is what BibTeX calls a "special
  character": one letter for abbreviating, ``purify$`` and sorting, and ``change.case$`` leaves its
  command names alone (``{\\ensuremath{\\Delta}}`` is not lowered to delta).
- T1 (``keep=T1_LETTERS``, the biblatex/biber export): the letters LaTeX's ``utf8`` input
  encoding sets in the T1 font encoding stay UTF-8; everything else is written as above.

The table of commands is pylatexenc's (about 1,500 characters; better kept than a table of our
own), filtered to the commands a bare ``article`` with ``[utf8]{inputenc}`` and
``[T1]{fontenc}`` defines (:data:`SAFE_MACROS`; each was compiled with pdflatex): Cyrillic
(``\\cyra``, needs T2A), amssymb/amsmath symbols (``\\lesssim``, ``\\nobreakdash``) and the like are
left out. A character with no such command is decomposed (``ǖ`` -> ``u`` with two accents,
superscript ``²`` -> ``\\textsuperscript{2}``); a format or private-use character is dropped; a
character that still has no form (CJK, Cyrillic) becomes ``?``, which compiles everywhere.

Also: LaTeX's specials are escaped; PubMed's ASCII dash ``--`` stays two hyphens (``-{}-``: TeX
would set ``--`` as an en dash) and the T1 ligatures ``,,`` ``!``` ``?``` are broken the same
way; whitespace runs become one space.

Markup (:func:`html_to_latex`, :func:`latex_title`): the ``<i> <b> <u> <sup> <sub>`` that
:attr:`Article.title_html` keeps become ``\\textit``, ``\\textbf``, ``\\underline``,
``\\textsuperscript``, ``\\textsubscript`` (all in the LaTeX kernel). Their argument is a brace
group, which BibTeX styles never change the case of.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from pylatexenc.latexencode import get_builtin_uni2latex_dict

# LaTeX's specials, escaped for text inside a braced BibTeX value.
ASCII_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    # \{ would unbalance BibTeX's brace counting, which ignores backslashes
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",  # OT1 sets "|" as an em dash
}

# Every letter LaTeX's utf8 input encoding declares for T1 (tex/latex/base/t1enc.dfu, TeX Live
# 2022); tests check the list against the installed file when TeX is there.
T1_LETTERS = frozenset(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖė"
    "ĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİıĲĳĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŊŋŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵ"
    "ŶŷŸŹźŻżŽžǄǅǆǇǈǉǊǋǌǍǎǏǐǑǒǓǔǢǣǦǧǨǩǪǫǰǴǵȘșȚțȲȳȷḂḃḍḞḟḥḰḱḷẎẏṃṅṇṛṣṭẐẑẞỲỳḠḡﬀﬁﬂﬃﬄﬅﬆ")

# The command names of pylatexenc's table that pdflatex knows with only [utf8]{inputenc} and
# [T1]{fontenc} loaded (measured: every entry of the table compiled alone; an entry is used only
# when all its commands are here). Single characters are the accent commands.
_SAFE_MACRO_NAMES = """
! " ' , - . ; = ^ ` ~ AE DH DJ Delta Downarrow Gamma H IJ L Lambda Leftarrow Leftrightarrow
Longleftarrow Longleftrightarrow Longrightarrow NG O OE Omega Phi Pi Psi Rightarrow Sigma TH Theta
Uparrow Updownarrow Upsilon Vert Xi acute ae aleph alpha amalg angle approx asymp beta bigcap
bigcirc bigcup bigtriangledown bigtriangleup bigvee bigwedge bowtie bullet c cap cdot cdots chi
circ cong coprod cup dashv ddot ddots delta dh diamond dj dot doteq ell enskip ensuremath epsilon
equiv eta exists forall frown gamma geq gg guillemotleft guillemotright guilsinglleft
guilsinglright hbar hookleftarrow hookrightarrow i ij in infty int iota k kappa l lambda langle
lceil leftharpoondown leftharpoonup leftrightarrow leq lfloor ll lmoustache longleftarrow
longleftrightarrow longmapsto longrightarrow mapsto mathbf mathbin mathit mathsf mathtt mid mp mu
nabla nearrow neq ng ni nolinebreak not notin nu nwarrow o odot oe oint omega ominus oplus oslash
otimes parallel partial perp phi pi pm prec preceq prod propto psi quad quotedblbase
quotesinglbase r rangle rceil rfloor rho rightharpoondown rightharpoonup rightleftharpoons
rmoustache searrow sigma sim simeq smile sqcap sqcup sqrt sqsubseteq sqsupseteq ss star subset
subseteq succ succeq sum supset supseteq swarrow tau textacutedbl textasciiacute textasciibreve
textasciicaron textasciicircum textasciidieresis textasciimacron textasciitilde
textasteriskcentered textbaht textbigcircle textblank textbrokenbar textbullet textcelsius
textcent textcircledP textcolonmonetary textcompwordmark textcopyright textcurrency textdagger
textdaggerdbl textdegree textdiscount textdiv textdong textdownarrow textellipsis textemdash
textendash textestimated texteuro textexclamdown textflorin textfractionsolidus textinterrobang
textlangle textleftarrow textlira textlnot textmho textmu textmusicalnote textnaira textnumero
textohm textonehalf textonequarter textonesuperior textopenbullet textordfeminine
textordmasculine textparagraph textperiodcentered textpertenthousand textperthousand textpeso
textquestiondown textquotedblleft textquotedblright textquoteleft textquoteright textrangle
textrecipe textreferencemark textregistered textrightarrow textsection textservicemark
textsterling textsuperscript textthreequarters textthreesuperior texttimes texttrademark
texttwosuperior textuparrow textvisiblespace textwon textyen th theta times top triangleleft
triangleright u updownarrow uplus upsilon v varepsilon varphi varpi varrho varsigma vartheta
vdash vdots vee wedge wp wr xi zeta
"""
SAFE_MACROS = frozenset(_SAFE_MACRO_NAMES.split())

# Where pylatexenc's entry needs a package or math mode, or where a reader expects otherwise.
_OVERRIDES = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen (pylatexenc: amsmath's \nobreakdash)
    "\u2012": r"\textendash",  # figure dash
    "\u2212": r"\ensuremath{-}",  # minus
    "\u2044": "/",  # fraction slash (NFKD of ½ etc.)
    "\u025b": r"\ensuremath{\varepsilon}",  # open e, used for epsilon
    "\u03d2": r"\ensuremath{\Upsilon}",
    "\u0390": r"\ensuremath{\acute{\ddot{\iota}}}",
    "\u237a": r"\ensuremath{\alpha}",  # APL alpha, seen in PubMed titles for alpha
    "\u2375": r"\ensuremath{\omega}",  # APL omega
    "\u00b5": r"\textmu",  # micro sign
    "\u2032": "'",  # prime
    "\u2033": "''",  # double prime
}

_ACCENTS = {  # combining mark -> LaTeX accent command
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
    "\u0327": "c", "\u0328": "k", "\u0331": "b",
}

_MACRO_NAME = re.compile(r"\\([A-Za-z]+|.)")


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """pylatexenc's table restricted to entries made only of SAFE_MACROS."""
    out: dict[int, str] = {}
    for cp, latex in get_builtin_uni2latex_dict().items():
        if cp < 128:
            continue
        if all(name in SAFE_MACROS for name in _MACRO_NAME.findall(latex)):
            out[cp] = latex
    return out


def _braced(latex: str) -> str:
    """A command in braces (a BibTeX "special character"); plain text as it is."""
    return "{" + latex + "}" if latex.startswith("\\") else latex


@lru_cache(maxsize=4096)
def char_to_latex(ch: str) -> str:
    """LaTeX for one non-ASCII character, braced when it is a command (see module doc)."""
    if ch in _OVERRIDES:
        return _braced(_OVERRIDES[ch])
    latex = _table().get(ord(ch))
    if latex is not None:
        return _braced(latex)
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Co", "Cs", "Cn") or category.startswith("M"):
        return ""  # controls, zero-width and private-use characters, stray accents
    if category.startswith("Z"):
        return " "
    decomposition = unicodedata.decomposition(ch)
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed != ch:
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        body = text_to_latex(base)
        marks = [c for c in decomposed if unicodedata.combining(c)]
        if body and len(base) == 1 and base.isascii() and base.isalpha():
            for mark in marks:
                if mark in _ACCENTS:
                    body = "{\\" + _ACCENTS[mark] + "{" + body + "}}"
        if decomposition.startswith("<super>"):
            return r"\textsuperscript{" + body + "}"
        if decomposition.startswith("<sub>"):
            return r"\textsubscript{" + body + "}"
        return body
    return "?"


_SPECIAL = re.compile(
    r"(?P<acc>[A-Za-z][\u0300-\u036f]+)"  # a letter with accents NFC could not compose
    r"|(?P<dash>--+)"
    r"|(?P<lig>,,|[!?]`)"
    r"|(?P<esc>[\\&%$#_{}~^<>|])"
    r"|(?P<uni>[^\x00-\x7f])")


def text_to_latex(text: str | None, keep: frozenset[str] = frozenset()) -> str:
    """Plain text as LaTeX for a braced BibTeX value (see the module doc); ``keep`` are the
    non-ASCII characters to leave as they are."""
    if not text:
        return ""
    text = " ".join(unicodedata.normalize("NFC", text).split())

    def repl(m: re.Match[str]) -> str:
        kind = m.lastgroup
        s = m.group(0)
        if kind == "esc":
            return ASCII_ESCAPES[s]
        if kind == "dash":
            return "{}".join(s)
        if kind == "lig":
            return s[0] + "{}" + s[1]
        if kind == "acc":
            body = s[0]
            for mark in s[1:]:
                if mark in _ACCENTS:
                    body = "{\\" + _ACCENTS[mark] + "{" + body + "}}"
            return body
        if s in keep:
            return s
        return char_to_latex(s)

    return _SPECIAL.sub(repl, text)


# -- inline markup --------------------------------------------------------------------------------

MARKUP_COMMANDS = {"i": r"\textit", "b": r"\textbf", "u": r"\underline",
                   "sup": r"\textsuperscript", "sub": r"\textsubscript"}
_TAG = re.compile(r"<(/?)(i|b|u|sup|sub)>")

def parse_markup(rich: str) -> list | None:
    """``<i>`` ``<b>`` ``<u>`` ``<sup>`` ``<sub>`` HTML (as :func:`harvester.markup.element_html`
    writes it) into a tree of text and ``(tag, children)``; None when the tags do not nest."""
    root: list = []
    stack: list[tuple[str, list]] = [("", root)]
    pos = 0
    for m in _TAG.finditer(rich):
        if m.start() > pos:
            stack[-1][1].append(html.unescape(rich[pos:m.start()]))
        pos = m.end()
        closing, tag = m.group(1), m.group(2)
        if not closing:
            node: list = []
            stack[-1][1].append((tag, node))
            stack.append((tag, node))
        elif stack[-1][0] == tag:
            stack.pop()
        else:
            return None
    if pos < len(rich):
        stack[-1][1].append(html.unescape(rich[pos:]))
    return root if len(stack) == 1 else None


def _plain(nodes: list) -> str:
    return "".join(n if isinstance(n, str) else _plain(n[1]) for n in nodes)


def _render(nodes: list, keep: frozenset[str]) -> str:
    out = []
    for n in nodes:
        if isinstance(n, str):
            out.append(text_to_latex_raw(n, keep))
        else:
            out.append(MARKUP_COMMANDS[n[0]] + "{" + _render(n[1], keep) + "}")
    return "".join(out)


def text_to_latex_raw(text: str, keep: frozenset[str]) -> str:
    """Like text_to_latex but keeps a leading/trailing space (a text run between tags)."""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return lead + text_to_latex(text, keep) + trail


def html_to_latex(rich: str, keep: frozenset[str] = frozenset()) -> str | None:
    """Inline HTML markup as LaTeX commands; None when the markup does not nest."""
    tree = parse_markup(rich)
    if tree is None:
        return None
    return " ".join(_render(tree, keep).split())


def _needs_protection(word: str, position: int) -> bool:
    """A word whose capitals a sentence-case style must keep: a capital after its first letter
    (NMDA, mRNA, COVID-19), or any capital when the word does not open the title (Parkinson's)."""
    letters = [c for c in word if c.isalpha()]
    inner_caps = any(c.isupper() for c in word[1:] if c.isalpha())
    opening_cap = bool(letters) and word[0].isupper()
    return inner_caps or (opening_cap and position > 0)


def _chunks(nodes: list) -> list[list]:
    """Split top-level nodes into whitespace-separated words; an element is never split."""
    chunks: list[list] = [[]]
    for n in nodes:
        if isinstance(n, str):
            parts = re.split(r"(\s+)", n)
            for part in parts:
                if not part:
                    continue
                if part.isspace():
                    if chunks[-1]:
                        chunks.append([])
                else:
                    chunks[-1].append(part)
        else:
            chunks[-1].append(n)
    return [c for c in chunks if c]


def latex_title(title: str, rich: str | None = None, keep: frozenset[str] = frozenset()) -> str:
    """A title as LaTeX: markup from ``rich`` when given (and well nested), else the plain
    ``title``; every word whose capitals must survive a sentence-case style is braced
    (``{NMDA}``, ``{COVID-19}``). Text inside a markup command needs no braces: its argument
    group is already safe from BibTeX's case changes; a word mixing both gets braces around its
    plain runs only (``{CO}\\textsubscript{2}``), since braces opening on a command would make
    BibTeX treat the whole group as one accented letter and lower-case it."""
    tree = parse_markup(rich) if rich else None
    if tree is None:
        tree = [title]
    out = []
    for position, chunk in enumerate(_chunks(tree)):
        protect = _needs_protection(_plain(chunk), position)
        parts = []
        for n in chunk:
            if isinstance(n, str):
                latex = text_to_latex(n, keep)
                if protect and any(c.isalpha() for c in n):
                    latex = "{" + latex + "}"
                parts.append(latex)
            else:
                parts.append(MARKUP_COMMANDS[n[0]] + "{" + _render(n[1], keep).strip() + "}")
        out.append("".join(parts))
    return " ".join(out)
