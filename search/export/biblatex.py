"""biblatex (biber) flavour of the BibTeX export: UTF-8, and biblatex's own fields.

For a document that runs biber, which reads UTF-8 as characters (the classic BibTeX export is
ASCII because BibTeX 0.99 counts bytes). Keys, names and titles are written as the BibTeX export
writes them (search.export.bibtex), with one difference: the letters that LaTeX's utf8 input
encoding sets in T1 stay UTF-8 (``Müller``, ``Øster-Ødegård``); Greek, math and other symbols
are still LaTeX commands, so the file also compiles with pdflatex (search.export.latex).

biblatex's fields where they differ from BibTeX's:

- ``journaltitle`` (and ``shortjournal``), ``location`` for the publisher's place;
- ``date`` in biblatex's ISO 8601/EDTF form: ``2019-02-04``, ``2010-09/2010-10`` for
  "2010 Sep-Oct", ``2010-12/2011-01``, a season as EDTF's 21-24 (``2002-21``: "2002 Spring");
- ``eprint`` = the PMID with ``eprinttype = {pubmed}`` (biblatex links it), besides ``pmid``;
- ``doi`` and ``url`` verbatim, as biblatex reads them;
- ``langid`` from PubMed's language code where biblatex/babel has a name for it.
"""

from __future__ import annotations

from index.article import Article
from search.export.base import SEASONS, PubDate, parse_pub_date
from search.export.bibtex import BibtexExporter, _verbatim
from search.export.latex import T1_LETTERS

# PubMed's ISO 639-2 codes -> babel/polyglossia language names (biblatex's langid)
LANGIDS = {
    "eng": "english", "ger": "german", "fre": "french", "spa": "spanish", "ita": "italian",
    "por": "portuguese", "dut": "dutch", "rus": "russian", "pol": "polish", "cze": "czech",
    "dan": "danish", "swe": "swedish", "nor": "norsk", "fin": "finnish", "hun": "hungarian",
    "tur": "turkish", "gre": "greek", "jpn": "japanese", "chi": "chinese", "kor": "korean",
    "heb": "hebrew", "cro": "croatian", "hrv": "croatian", "slo": "slovak", "slv": "slovenian",
    "rum": "romanian", "ukr": "ukrainian", "bul": "bulgarian", "srp": "serbian", "cat": "catalan",
    "ice": "icelandic", "est": "estonian", "lit": "lithuanian", "lav": "latvian",
}

_SEASON_CODES = {"spring": 21, "summer": 22, "fall": 23, "autumn": 23, "winter": 24}


def edtf_date(d: PubDate) -> str | None:
    """PubMed's date as biblatex's ``date`` field (None without a year)."""
    if d.year is None:
        return None
    if d.season:
        first = d.season.split("-")[0].casefold()
        code = _SEASON_CODES.get(first) if first in SEASONS else None
        return f"{d.year}-{code}" if code else str(d.year)
    start = str(d.year)
    if d.month:
        start += f"-{d.month:02d}"
        if d.day:
            start += f"-{d.day:02d}"
    if d.is_range:
        end = str(d.end_year or d.year)
        if d.end_month:
            end += f"-{d.end_month:02d}"
        return f"{start}/{end}"
    return start


class BiblatexExporter(BibtexExporter):
    keep = T1_LETTERS

    def fields(self, article: Article, kind: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        date = edtf_date(parse_pub_date(article))
        for name, value in super().fields(article, kind):
            if name == "journal":
                out.append(("journaltitle", value))
            elif name == "address":
                out.append(("location", value))
            elif name == "month":
                continue
            elif name == "year":
                if date:
                    out.append(("date", date))
            elif name == "doi":
                out.append(("doi", _verbatim(article.doi) or ""))
            elif name == "pmid":
                out += [("eprint", value), ("eprinttype", "pubmed"), ("pmid", value)]
            elif name == "language":
                ids = [LANGIDS[c] for c in article.languages if c in LANGIDS]
                if ids:
                    out.append(("langid", ids[0]))
            else:
                out.append((name, value))
        return out
