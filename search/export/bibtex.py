"""BibTeX (read by BibTeX, biber/biblatex, bibtexparser, Zotero, JabRef).

- ``@article``, ``@book`` for whole books, ``@incollection`` for chapters.
- Keys: first author's surname + year + first significant title word, ASCII-folded and
  lower-cased (``coar2010zotero``); a group author gives the first significant word of its name;
  no author gives ``anon``. A key already used in this export gets ``b``, ``c``, ... in record order,
  so the same input always yields the same keys. (The set of used keys is the one thing an
  export keeps in memory: about 100 bytes a record.)
- Titles: LaTeX specials escaped (``& % $ # _ { } ~ ^ \\`` and ``< >``), and every word that carries
  a capital letter after its first character, or any capital unless it opens the title, is
  braced so that styles which lower-case titles keep it: ``{NMDA}``, ``{PTSD}``, ``{COVID-19}``,
  ``{Parkinson's}``. Non-ASCII letters stay UTF-8 (biber, bibtexparser and Zotero read it).
  PubMed's ASCII dash ("toolkits--a brief overview") is left for TeX to set as the dash it means.
- ``author``/``editor``: ``Last, First and ...`` (the comma form keeps particles such as
  ``van der Berg`` and compound surnames right); a group author is wrapped in braces so ``and``
  or commas inside it do not split it.
- ``doi`` and ``url`` are written verbatim (biblatex treats them so; an escaped ``\\_`` would
  break the link).
- ``pages`` with ``--`` and PubMed's abbreviated ends expanded; ``month`` as the standard
  ``jan``..``dec`` macros; ``pmid``, ``pmcid``, ``doi``, ``issn``/``isbn``, ``url``, ``language``,
  ``abstract``, ``keywords`` (separated by "; ": MeSH headings such as "Depression, Postpartum"
  contain commas, and an importer that splits on commas would cut them in two).
- A retracted record: ``note = {RETRACTED publication; retraction notice PMID ...}``; the title
  is left as published.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TextIO

from index.article import Article, Author
from search.export.base import (
    ARTICLE,
    BOOK,
    CHAPTER,
    MONTH_ABBR,
    Exporter,
    book_url,
    cited_title,
    expand_pages,
    given_name,
    journal_title,
    parse_pub_date,
    record_kind,
    retraction_note,
    strip_final_period,
    subject_terms,
)

_ESCAPES = {
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
}
_SPECIAL = re.compile("[" + re.escape("".join(_ESCAPES)) + "]")

STOPWORDS = frozenset(["a", "an", "the", "of", "on", "in", "and", "or", "for", "to", "with", "from", "by", "at", "as", "is", "are", "was", "were", "be", "its", "it", "into", "than", "that", "this", "these", "those", "via", "vs", "versus", "not", "no", "do", "does", "after", "before", "during", "among", "between", "under", "over", "about", "against", "de", "la", "le", "les", "el", "los", "las", "der", "die", "das", "und", "du", "des", "en", "un", "une"])

_TYPES = {ARTICLE: "article", BOOK: "book", CHAPTER: "incollection"}


def latex_escape(text: str) -> str:
    """Make text safe inside a braced BibTeX value; whitespace (newlines too) becomes one space."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], " ".join(text.split()))


def protect_title(title: str) -> str:
    """Escape and brace the words whose capitals must survive a sentence-case style."""
    words = title.split()
    out = []
    for i, word in enumerate(words):
        esc = latex_escape(word)
        letters = [c for c in word if c.isalpha()]
        inner_caps = any(c.isupper() for c in word[1:] if c.isalpha())
        opening_cap = bool(letters) and word[0].isupper()
        if inner_caps or (opening_cap and i > 0):
            esc = "{" + esc + "}"
        out.append(esc)
    return " ".join(out)


def ascii_fold(text: str) -> str:
    """"Müller" -> "muller", "D'Angelo" -> "dangelo", "Øster" -> "oster"."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("æ", "ae") \
        .replace("Æ", "AE").replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _first_significant(text: str | None) -> str:
    for word in re.split(r"[\s\-/]+", text or ""):
        folded = ascii_fold(word)
        if folded and folded not in STOPWORDS and not folded.isdigit():
            return folded
    return ""


def base_key(article: Article) -> str:
    first: Author | None = article.authors[0] if article.authors else (
        article.editors[0] if article.editors else None)
    if first is None:
        who = "anon"
    elif first.collective:
        who = _first_significant(first.collective) or "anon"
    else:
        who = ascii_fold(first.last or given_name(first) or "") or "anon"
    year = parse_pub_date(article).year
    word = _first_significant(cited_title(article))
    return f"{who}{year or ''}{word}"


def bibtex_name(author: Author) -> str | None:
    if author.collective:
        return "{" + latex_escape(author.collective) + "}"
    given = given_name(author)
    last = latex_escape(author.last) if author.last else None
    if last and given:
        return f"{last}, {latex_escape(given)}"
    if last:
        # a surname alone must not be split into first/last by BibTeX ("Pulido Guevara")
        return "{" + last + "}" if " " in last else last
    return latex_escape(given) if given else None


def _verbatim(value: str | None) -> str | None:
    """doi and url are verbatim fields (biblatex, the url and doi packages): escaping "_" would
    print a backslash and break the link. Only braces must go, for BibTeX's brace counting."""
    if value is None:
        return None
    return value.replace("{", "%7B").replace("}", "%7D")


class BibtexExporter(Exporter):
    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._used: set[str] = set()

    def unique_key(self, article: Article) -> str:
        key = base_key(article)
        if key not in self._used:
            self._used.add(key)
            return key
        for n in range(1, 10_000):
            suffix = ""
            m = n
            while m >= 0:  # b, c, ..., z, ba, bb, ... ("a" is the unsuffixed first)
                suffix = "abcdefghijklmnopqrstuvwxyz"[m % 26] + suffix
                m = m // 26 - 1
            candidate = key + suffix
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate
        candidate = f"{key}pmid{article.pmid}"
        self._used.add(candidate)
        return candidate

    def write_record(self, article: Article) -> None:
        kind = record_kind(article)
        fields: list[tuple[str, str]] = []

        def add(name: str, value: str | int | None, *, raw: bool = False) -> None:
            if value is None or str(value).strip() == "":
                return
            fields.append((name, str(value) if raw else latex_escape(str(value))))

        title = strip_final_period(cited_title(article))
        if kind == BOOK:
            title = strip_final_period(article.book_title or title)
        if title:
            fields.append(("title", protect_title(title)))
        names = [n for n in (bibtex_name(a) for a in article.authors) if n]
        if names:
            fields.append(("author", " and ".join(names)))
        editors = [n for n in (bibtex_name(a) for a in article.editors) if n]
        if kind == CHAPTER:
            bt = strip_final_period(article.book_title)
            if bt:
                fields.append(("booktitle", protect_title(bt)))
        if kind != ARTICLE:
            if editors:
                fields.append(("editor", " and ".join(editors)))
            add("publisher", article.publisher)
            add("address", article.publisher_location)
        else:
            add("journal", journal_title(article))
            add("shortjournal", article.journal_iso)
        date = parse_pub_date(article)
        add("year", date.year)
        if date.month:
            fields.append(("month", MONTH_ABBR[date.month].lower()))
        add("volume", article.volume)
        if kind == ARTICLE:
            add("number", article.issue)
        pages = expand_pages(article.pages)
        if pages:
            fields.append(("pages", latex_escape(pages).replace("-", "--")))
        add("doi", _verbatim(article.doi), raw=True)
        add("issn", article.issn if kind == ARTICLE else None)
        add("isbn", article.isbn if kind != ARTICLE else None)
        add("pmid", article.pmid)
        add("pmcid", article.pmcid)
        add("url", _verbatim(book_url(article) or article.pubmed_url), raw=True)
        add("language", ", ".join(article.languages) if article.languages else None)
        add("abstract", article.abstract)
        terms = subject_terms(article)
        add("keywords", "; ".join(terms) if terms else None)
        add("note", retraction_note(article))

        key = self.unique_key(article)
        # month is the standard macro (jan..dec), written bare; everything else braced
        body = ",\n".join(f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
                          for name, value in fields)
        self.out.write(f"@{_TYPES[kind]}{{{key},\n{body}\n}}\n\n")
