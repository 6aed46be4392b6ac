"""A numbered reference list in Vancouver style as NLM's Citing Medicine (and PubMed's "NLM"
citation) writes it:

    1. Coar JT, Sewell JP. Zotero: harnessing the power of a personal bibliographic manager.
       Nurse Educ. 2010 Sep-Oct;35(5):205-7. doi: 10.1097/NNE.0b013e3181ed81e4. PMID: 20729678.

(one line per reference). Up to six authors, then "et al."; group authors as written; the title
as published (bracketed translated titles keep their brackets); the journal's NLM abbreviation;
the date as PubMed writes it, then ``;volume(issue):pages`` with whatever is known; pages as PubMed
abbreviates them. Books: ``Title. Place: Publisher; Year.``; chapters: ``Chapter. In: Editors,
editors. Book. Place: Publisher; Year.``. A retracted record ends with "Retraction in: PMID: N."
(or "Retracted publication." when the notice is not known), as Citing Medicine asks.
"""

from __future__ import annotations

from index.article import Article, Author
from search.export.base import (
    BOOK,
    CHAPTER,
    Exporter,
    cited_title,
    is_retracted,
    nlm_abbreviation,
    record_kind,
    vancouver_name,
)

MAX_AUTHORS = 6


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."


def author_list(authors: list[Author]) -> str | None:
    names = [n for n in (vancouver_name(a) for a in authors) if n]
    if not names:
        return None
    if len(names) > MAX_AUTHORS:
        return ", ".join(names[:MAX_AUTHORS]) + ", et al"
    return ", ".join(names)


def date_text(article: Article) -> str | None:
    return article.pub_date or (str(article.pub_year) if article.pub_year else None)


def nlm_source(article: Article) -> str:
    """"Nurse Educ. 2010 Sep-Oct;35(5):205-7." - the part after the title (MEDLINE's SO)."""
    parts = [_sentence(nlm_abbreviation(article) or "")] if nlm_abbreviation(article) else []
    loc = date_text(article) or ""
    if article.volume or article.issue:
        loc += ";" + (article.volume or "") + (f"({article.issue})" if article.issue else "")
    if article.pages:
        loc += ":" + article.pages
    if loc:
        parts.append(loc + ".")
    return " ".join(parts)


def _book_tail(article: Article) -> str:
    where = ": ".join(p for p in (article.publisher_location, article.publisher) if p)
    date = date_text(article)
    tail = "; ".join(p for p in (where, date) if p)
    return tail + "." if tail else ""


def reference(article: Article) -> str:
    """One reference without its number."""
    kind = record_kind(article)
    parts: list[str] = []
    authors = author_list(article.authors)
    if authors:
        parts.append(authors + ".")
    title = cited_title(article)
    if kind == BOOK:
        book = article.book_title or title
        if book:
            parts.append(_sentence(book + " [Internet]" if article.bookaccession else book))
        parts.append(_book_tail(article))
    elif kind == CHAPTER:
        if title:
            parts.append(_sentence(title))
        eds = author_list(article.editors)
        book = (article.book_title or "") + (" [Internet]" if article.bookaccession else "")
        parts.append("In: " + (f"{eds}, editors. " if eds else "") + _sentence(book))
        parts.append(_book_tail(article))
    else:
        if title:
            parts.append(_sentence(title))
        parts.append(nlm_source(article))
    if article.doi:
        parts.append(f"doi: {article.doi}.")
    ids = f"PMID: {article.pmid}"
    if article.pmcid:
        ids += f"; PMCID: {article.pmcid}"
    parts.append(ids + ".")
    if is_retracted(article):
        if article.retraction_pmids:
            parts.append("Retraction in: " + "; ".join(
                f"PMID: {p}" for p in article.retraction_pmids) + ".")
        else:
            parts.append("Retracted publication.")
    return " ".join(p for p in parts if p)


class TextExporter(Exporter):
    def write_record(self, article: Article) -> None:
        self.out.write(f"{self.count + 1}. {reference(article)}\n")
