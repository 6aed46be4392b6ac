"""Backend-neutral derived values of a record that the index matches whole: PubMed's
publication and Entrez dates as numbers, and the namespaced ``keys`` ([mh], [majr], [sh], [au],
[ta], [si], [doi], [sb]) and per-part ``words`` (truncation) that index.whoosh.schema indexes and
search/query.py looks up. Any backend indexes and queries these the same way.
"""

from __future__ import annotations

import re

from index.analysis import fold
from index.article import Article

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")

# Namespaces of ``words``, by part: the prefix a truncated word is looked up under.
WORD_PARTS = {"title": "t", "abstract": "a", "keywords": "k", "mesh": "m"}



_MONTH_NUMBERS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_PUB_DATE_RE = re.compile(r"^\s*(\d{4})(?:\s+([A-Za-z]{3})[a-z]*\.?(?:\s+(\d{1,2})\b)?)?")


def pub_date_key(article: Article) -> int:
    """The publication date as YYYYMMDD, what [dp] full-date ranges compare: PubDate as PubMed
    writes it ("2019 Mar 28", "2010 Sep-Oct", "2002 Spring", "1998 Dec-1999 Jan"), its first day
    when the day or month is missing (a season counts as the year alone). Its year is always
    ``pub_year``, so 2018:2020[dp] and 2018/01/01:2020/12/31[dp] select the same records.
    """
    if not article.pub_year:
        return 0
    month = day = 1
    m = _PUB_DATE_RE.match(article.pub_date or "")
    if m and int(m.group(1)) == article.pub_year and m.group(2):
        month = _MONTH_NUMBERS.get(m.group(2).lower(), 1)
        if month != 1 or m.group(2).lower() == "jan":
            day = int(m.group(3)) if m.group(3) and 1 <= int(m.group(3)) <= 31 else 1
    return article.pub_year * 10000 + month * 100 + day


def entrez_date_key(article: Article) -> int:
    m = _DATE_RE.match(article.entrez_date or "")
    return int(m.group(1) + m.group(2) + m.group(3)) if m else 0



KEY_SEP = "\x1e"  # never in a PubMed value; keys_analyzer splits on it


def key_text(value: str) -> str:
    """How a whole value is written in ``keys`` (and looked up): folded, single-spaced."""
    return " ".join(fold(value).split())


def article_keys(article: Article) -> list[str]:
    """The ``keys`` terms of a record (see the module docstring), without duplicates."""
    out: list[str] = []
    for m in article.mesh:
        d = key_text(m.descriptor)
        out.append("mh:" + d)
        if m.major or any(major for _q, major in m.qualifiers):
            out.append("mj:" + d)
        for q, _major in m.qualifiers:
            out.append("sh:" + key_text(q))
            out.append(f"mq:{d}/{key_text(q)}")
    for a in article.authors:
        if a.collective:
            out.append("au:" + key_text(a.collective))
        elif a.last:
            out.append("au:" + key_text(" ".join(x for x in (a.last, a.initials) if x)))
    for j in (article.journal, article.journal_iso):
        if j:
            out.append("ta:" + key_text(j.replace(".", " ")))
    if article.issn:
        out.append("is:" + key_text(article.issn))
    for sid in article.secondary_ids:
        out.append("si:" + key_text(sid))
        if "/" in sid:
            out.append("si:" + key_text(sid.rsplit("/", 1)[1]))
    if article.doi:
        out.append("doi:" + key_text(article.doi))
    for subset in article_subsets(article):
        out.append("sb:" + subset)
    return [k for k in dict.fromkeys(out) if KEY_SEP not in k]


def article_subsets(article: Article) -> list[str]:
    """PubMed's [sb] subsets this record belongs to (those ketlit can tell from the record)."""
    out = []
    if article.pmcid:
        out.append("free full text")
    if article.pmcid or article.doi:
        out.append("full text")
    if article.abstract:
        out.append("hasabstract")
    status = (article.status or "").lower()
    if status == "medline":
        out.append("medline")
    elif status:
        out.append("pubmednotmedline")
    if status == "publisher":
        out.append("publisher")
    if article.retracted:
        out.append("retracted")
    return out


