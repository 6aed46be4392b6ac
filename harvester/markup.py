"""Inline markup in PubMed XML turned into readable plain text.

PubMed titles, abstracts, keywords and even book titles may carry ``<i>``, ``<b>``, ``<u>``,
``<sup>``, ``<sub>`` and MathML (``mml:math``). The index and the exporters want plain text, so
the parser flattens every text-bearing element through :func:`element_text`.

Conventions (chosen so that what a reader sees is also what a searcher types):

- ``<i>``, ``<b>``, ``<u>`` are dropped, their text kept: ``<i>CACNA1C</i>-related`` ->
  ``CACNA1C-related``. One exception: an underlined ``<`` or ``>`` alone is how PubMed data writes
  ``≤`` / ``≥`` (``0.4-<u>&lt;</u>4.5`` -> ``0.4-≤4.5``), so it becomes that character. Text around tags is joined exactly as written, so no space is added or
  lost (``A "<i>Blood Relationship"</i> Between`` -> ``A "Blood Relationship" Between``).
- ``<sub>`` and ``<sup>`` become plain characters in line: ``CO<sub>2</sub>`` -> ``CO2``,
  ``10<sup>-3</sup>`` -> ``10-3``, ``km·h<sup>-1</sup>`` -> ``km·h-1``. Unicode super/subscript
  digits would look nicer but tokenize apart from ordinary digits, so "CO2" would not find them.
- MathML becomes its ``alttext`` when it has one, else the text of its tokens (``mi``, ``mn``,
  ``mo``, ``mtext``) in reading order, ignoring the pretty-printing whitespace between elements:
  a ``msub`` of V-with-dot-over, O and ``2max`` -> ``VO2max``; prescripts come first
  (``mmultiscripts`` of He with prescript 3 -> ``3He``); ``mfrac`` -> ``a/b``; ``msqrt`` ->
  ``√(x)``. Accent marks drawn over a letter (the dot of V̇) are dropped: they are not typed.
- Whitespace is normalized: every run of whitespace (including no-break spaces and the newlines
  of pretty-printed XML) becomes one space, and the result is stripped.
"""

from __future__ import annotations

import html
import re

from lxml import etree

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_MATHML_PREFIX = "{" + MATHML_NS + "}"

# Marks that MathML draws over a base letter as an accent (rate dot, hat, bar, tilde, arrow).
_ACCENTS = frozenset(".˙·^ˆ¯‾~˜→⃗\u0307\u0302\u0304\u0303")
_UNDERLINED = {"<": "≤", ">": "≥"}
_TOKENS = frozenset({"mi", "mn", "mo", "mtext", "ms"})
_SKIP = frozenset({"annotation", "annotation-xml", "none", "mprescripts", "mspace", "maligngroup",
                   "malignmark"})


def normalize_space(text: str | None) -> str:
    """Collapse whitespace runs to one space and strip; ``None`` -> ``""``."""
    if not text:
        return ""
    return " ".join(text.split())


def element_text(el: etree._Element | None) -> str | None:
    """Readable plain text of an element that may contain inline markup; ``None`` when empty."""
    if el is None:
        return None
    if len(el) == 0:  # the common case: no markup, no recursion
        text = el.text
        if not text:
            return None
        return " ".join(text.split()) or None
    parts: list[str] = []
    _flatten(el, parts)
    return " ".join("".join(parts).split()) or None


_KEPT = frozenset({"i", "b", "u", "sup", "sub"})


def element_html(el: etree._Element | None) -> str | None:
    """The element's text with PubMed's inline markup kept as HTML (``<i> <b> <u> <sup> <sub>``,
    the rest escaped; MathML as its readable text), for exports whose format can hold it (CSL-JSON
    rich text, BibTeX commands). ``None`` when the element has no such markup: the plain text
    (:func:`element_text`) then says everything."""
    if el is None or not any(isinstance(c.tag, str) and _local(c.tag) in _KEPT
                             for c in el.iter()):
        return None
    parts: list[str] = []
    _html(el, parts)
    return " ".join("".join(parts).split()) or None


def _html(el: etree._Element, parts: list[str]) -> None:
    if el.text:
        parts.append(html.escape(el.text, quote=False))
    for child in el:
        tag = child.tag
        if _is_mathml(tag):
            parts.append(html.escape(mathml_text(child), quote=False))
        elif tag == "u" and len(child) == 0 and (child.text or "").strip() in _UNDERLINED:
            parts.append(_UNDERLINED[child.text.strip()])
        elif isinstance(tag, str) and _local(tag) in _KEPT:
            name = _local(tag)
            parts.append(f"<{name}>")
            _html(child, parts)
            parts.append(f"</{name}>")
        elif isinstance(tag, str):
            _html(child, parts)
        if child.tail:
            parts.append(html.escape(child.tail, quote=False))


def _local(tag: object) -> str | None:
    if not isinstance(tag, str):  # comments and processing instructions
        return None
    if tag.startswith("{"):
        return tag.rsplit("}", 1)[1]
    if ":" in tag:  # an undeclared "mml:" prefix still names MathML
        return tag.rsplit(":", 1)[1]
    return tag


def _is_mathml(tag: object) -> bool:
    return isinstance(tag, str) and (tag.startswith(_MATHML_PREFIX) or tag.startswith("mml:")
                                     or tag == "math")


def _flatten(el: etree._Element, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for child in el:
        tag = child.tag
        if _is_mathml(tag):
            parts.append(mathml_text(child))
        elif tag == "u" and len(child) == 0 and (child.text or "").strip() in _UNDERLINED:
            # publishers underline "<" / ">" to write "≤" / "≥" where the font lacks them
            parts.append(_UNDERLINED[child.text.strip()])
        elif isinstance(tag, str):
            _flatten(child, parts)
        if child.tail:
            parts.append(child.tail)


def mathml_text(el: etree._Element) -> str:
    """Plain text of a MathML element (its ``alttext`` when present)."""
    alt = el.get("alttext")
    if alt and alt.strip():
        return " ".join(alt.split())
    parts: list[str] = []
    _math(el, parts)
    return "".join(parts)


def _math(el: etree._Element, parts: list[str]) -> None:
    name = _local(el.tag)
    if name is None or name in _SKIP:
        return
    if name in _TOKENS:
        text = "".join(el.itertext())
        # mtext/mspace carry meaningful spaces; other tokens only pretty-printing whitespace.
        parts.append(text if name == "mtext" else text.strip())
        return
    children = [c for c in el if isinstance(c.tag, str)]
    if name == "semantics":
        if children:
            _math(children[0], parts)  # the presentation form; annotations repeat it
        return
    if name == "mmultiscripts":
        pre_at = next((i for i, c in enumerate(children) if _local(c.tag) == "mprescripts"), None)
        if pre_at is not None:
            for c in children[pre_at + 1:]:
                _math(c, parts)
            for c in children[:pre_at]:
                _math(c, parts)
            return
    if name in ("mover", "munder", "munderover") and children:
        _math(children[0], parts)
        for c in children[1:]:
            sub: list[str] = []
            _math(c, sub)
            text = "".join(sub).strip()
            if text and not all(ch in _ACCENTS for ch in text):
                parts.append(text)
        return
    if name == "mfrac" and len(children) == 2:
        _math(children[0], parts)
        parts.append("/")
        _math(children[1], parts)
        return
    if name in ("msqrt", "mroot"):
        parts.append("√(")
        for c in children[:1] if name == "mroot" else children:
            _math(c, parts)
        parts.append(")")
        return
    for c in children:
        _math(c, parts)


_TAG_RE = re.compile(r"<[^<>]*>")


def strip_markup(text: str | None) -> str | None:
    """Plain text of a string that may hold inline XML markup (e.g. from another tool's output).

    Parsed as an XML fragment when it is well-formed, so MathML is flattened as above; otherwise
    tags are removed textually. ``None`` when nothing is left.
    """
    if text is None:
        return None
    if "<" not in text and "&" not in text:
        return normalize_space(text) or None
    wrapped = f'<x xmlns:mml="{MATHML_NS}">{text}</x>'
    try:
        el = etree.fromstring(wrapped.encode("utf-8"),
                              etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return normalize_space(html.unescape(_TAG_RE.sub("", text))) or None
    return element_text(el)
