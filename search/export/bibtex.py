"""BibTeX (read by BibTeX, biber/biblatex, bibtexparser, pybtex, Zotero, JabRef).

The file compiles with pdflatex + bibtex under the standard styles (plain, unsrt, plainnat,
apalike) whatever the records hold; the tests build every shared PubMed record with each.

- ``@article``, ``@book`` for whole books, ``@incollection`` for chapters.
- Keys: first author's surname + year + first significant title word, ASCII-folded and
  lower-cased (``coar2010zotero``); a group author gives the first significant word of its name;
  no author gives ``anon``. A key already used in this export gets ``b``, ``c``, ... in record order,
  so the same input always yields the same keys. (The set of used keys is the one thing an
  export keeps in memory: about 100 bytes a record.)
- Text is ASCII: every other character is a braced LaTeX command (``{\\'e}``,
  ``{\\ensuremath{\\alpha}}``; search.export.latex says why and how). PubMed's ASCII dash
  ("toolkits--a brief overview") stays two hyphens (``-{}-``).
- Titles: PubMed's ``<i> <b> <u> <sup> <sub>`` become ``\\textit`` ``\\textbf`` ``\\underline``
  ``\\textsuperscript`` ``\\textsubscript`` (MathML arrives as readable text); every word that
  carries a capital letter after its first character, or any capital unless it opens the title,
  is braced so that styles which lower-case titles keep it: ``{NMDA}``, ``{COVID-19}``,
  ``{Parkinson's}``.
- ``author``/``editor``: ``Last, First and ...``. BibTeX splits the part before the comma into
  "von" (every word up to the last lower-case one) and "Last", so a surname is written to split
  as PubMed's record does: leading particles stay the von part (``van der Berg`` -> von "van
  der", last "Berg"; ``de la Cruz``), while a compound surname with a lower-case word inside is
  braced whole (``{Caron de Fromentel}``, ``de {Souza e Silva}``), else BibTeX would file
  "Caron de Fromentel" under "Fromentel". A word "and" or a comma inside a name is braced; a
  group author is braced whole so ``and`` or commas inside it do not split it.
- ``doi`` as written, with LaTeX's specials escaped (plainnat prints it as text: an unescaped
  ``_`` stops pdflatex); ``url`` verbatim (ketlit's own PubMed/NCBI Bookshelf links).
- ``pages`` with ``--`` and PubMed's abbreviated ends expanded; ``month`` as the standard
  ``jan``..``dec`` macros; ``pmid``, ``pmcid``, ``doi``, ``issn``/``isbn``, ``url``, ``language``,
  ``abstract``, ``keywords`` (separated by "; ": MeSH headings such as "Depression, Postpartum"
  contain commas, and an importer that splits on commas would cut them in two).
- A retracted record: ``note = {RETRACTED publication; retraction notice PMID ...}``; the title
  is left as published.
- A record with no author: ``key`` = its title, which styles sort and label it by. (The standard
  styles still warn "empty author", which is true.)

The biblatex flavour (search.export.biblatex) shares the keys, names and titles, in UTF-8.
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
from search.export.latex import latex_title, text_to_latex

STOPWORDS = frozenset(["a", "an", "the", "of", "on", "in", "and", "or", "for", "to", "with", "from", "by", "at", "as", "is", "are", "was", "were", "be", "its", "it", "into", "than", "that", "this", "these", "those", "via", "vs", "versus", "not", "no", "do", "does", "after", "before", "during", "among", "between", "under", "over", "about", "against", "de", "la", "le", "les", "el", "los", "las", "der", "die", "das", "und", "du", "des", "en", "un", "une"])

_TYPES = {ARTICLE: "article", BOOK: "book", CHAPTER: "incollection"}


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




# -- names ----------------------------------------------------------------------------------------

def _lowercase_word(word: str) -> bool:
    """BibTeX's test for a von word: its first letter is lower case."""
    first = next((c for c in word if c.isalpha()), "")
    return first.islower()


def _name_words(text: str, keep: frozenset[str]) -> list[str]:
    """Words of a name part as LaTeX; an "and" or a comma inside would split the name list or
    the name, so such words are braced."""
    out = []
    for word in text.split():
        latex = text_to_latex(word, keep)
        if word.casefold() == "and" or "," in word:
            latex = "{" + latex + "}"
        out.append(latex)
    return out


def surname(last: str, keep: frozenset[str] = frozenset()) -> str:
    """A surname written so that BibTeX's von/last split gives back PubMed's surname (see the
    module doc): leading lower-case particles first, then the rest, braced when BibTeX would
    otherwise take a word of it for a particle."""
    words = last.split()
    latex = _name_words(last, keep)
    n = 0
    while n < len(words) - 1 and _lowercase_word(words[n]):
        n += 1
    rest_words, rest = words[n:], latex[n:]
    if len(rest_words) > 1 and any(_lowercase_word(w) for w in rest_words[1:]):
        rest = ["{" + " ".join(rest) + "}"]
    return " ".join(latex[:n] + rest)


def bibtex_name(author: Author, keep: frozenset[str] = frozenset()) -> str | None:
    if author.collective:
        return "{" + text_to_latex(author.collective, keep) + "}"
    given = given_name(author)
    if author.last:
        last = surname(author.last, keep)
        if given:
            return f"{last}, {' '.join(_name_words(given, keep))}"
        # "First von Last" form: words before a particle would be read as given names, so a
        # surname of several words without particles is braced ("{Pulido Guevara}")
        if " " in last and not _lowercase_word(author.last.split()[0]) and last[0] != "{":
            return "{" + last + "}"
        return last
    return " ".join(_name_words(given, keep)) if given else None


def _verbatim(value: str | None) -> str | None:
    """url is a verbatim field (biblatex, the url package): escaping "_" would print a
    backslash and break the link. Only braces must go, for BibTeX's brace counting."""
    if value is None:
        return None
    return value.replace("{", "%7B").replace("}", "%7D")


_DOI_SPECIAL = re.compile(r"[_%#&$~^\\]|[^\x00-\x7f]")


def doi_text(doi: str | None) -> str | None:
    """A DOI for a field that styles print as text (plainnat's ``\\doi{...}`` without the url
    package): only what stops LaTeX is escaped; ``<`` ``>`` of old SICI DOIs print as they are in
    T1 and stay, so the DOI reads back unchanged apart from the escapes."""
    if doi is None:
        return None
    return _DOI_SPECIAL.sub(lambda m: text_to_latex(m.group(0)), _verbatim(doi) or "")


class BibtexExporter(Exporter):
    """Classic BibTeX: ASCII text with LaTeX commands."""

    #: non-ASCII characters written as they are (none: BibTeX 0.99 counts bytes)
    keep: frozenset[str] = frozenset()

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

    def text(self, value: str | None) -> str:
        return text_to_latex(value, self.keep)

    def title(self, article: Article, kind: str) -> str | None:
        title = strip_final_period(cited_title(article))
        if kind == BOOK:
            title = strip_final_period(article.book_title or title)
        if not title:
            return None
        rich = article.title_html if title == strip_final_period(article.title) else None
        if rich and title != article.title:  # PubMed's closing period, maybe inside a tag
            rich = re.sub(r"(?<!\.)\.((?:</(?:i|b|u|sup|sub)>)*)$", r"\1", rich)
        return latex_title(title, rich, self.keep)

    def names(self, authors: list[Author]) -> str | None:
        names = [n for n in (bibtex_name(a, self.keep) for a in authors) if n]
        return " and ".join(names) if names else None

    def fields(self, article: Article, kind: str) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []

        def add(name: str, value: str | int | None, *, raw: bool = False) -> None:
            if value is None or str(value).strip() == "":
                return
            fields.append((name, str(value) if raw else self.text(str(value))))

        add("title", self.title(article, kind), raw=True)
        add("author", self.names(article.authors), raw=True)
        if not article.authors and not article.editors:
            # what styles sort and label an authorless entry by (else bibtex warns "to sort,
            # need author or key"): its title, as APA cites an anonymous work
            add("key", strip_final_period(cited_title(article)))
        if kind == CHAPTER:
            bt = strip_final_period(article.book_title)
            add("booktitle", latex_title(bt, None, self.keep) if bt else None, raw=True)
        if kind != ARTICLE:
            add("editor", self.names(article.editors), raw=True)
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
            fields.append(("pages", self.text(pages).replace("-{}-", "-").replace("-", "--")))
        add("doi", doi_text(article.doi), raw=True)
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
        return fields

    def entry_type(self, kind: str) -> str:
        return _TYPES[kind]

    def write_record(self, article: Article) -> None:
        kind = record_kind(article)
        fields = self.fields(article, kind)
        key = self.unique_key(article)
        # month is the standard macro (jan..dec), written bare; everything else braced
        body = ",\n".join(f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
                          for name, value in fields)
        self.out.write(f"@{self.entry_type(kind)}{{{key},\n{body}\n}}\n\n")
