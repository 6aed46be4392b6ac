"""biblatex (biber) flavour of the BibTeX export: UTF-8 letters, biblatex's fields."""

from __future__ import annotations

import bibtexparser
import pybtex.database
from bibtexparser import middlewares as mw

from index.article import Article, Author
from search.export import EXPORT_FORMATS
from search.export.base import PubDate
from search.export.biblatex import edtf_date
from tests.search.export_cases import all_cases, by_pmid, export


def _entries(text: str):
    lib = bibtexparser.parse_string(
        text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()])
    assert lib.failed_blocks == []
    return lib.entries


def _field(entry, name: str):
    f = entry.fields_dict.get(name)
    return f.value if f is not None else None


def test_biblatex_is_its_own_registered_format():
    fmt = EXPORT_FORMATS["biblatex"]
    assert fmt.extension == "bib" and "biber" in fmt.label


def test_t1_letters_stay_utf8_and_the_rest_is_latex():
    art = Article(pmid="1", title="Müller's Δ9-THC at ≥ 5 µg in Øresund.", pub_year=2020,
                  journal="Revista Española", authors=[
                      Author(last="Øster-Ødegård", fore="Ægir"),
                      Author(last="Caron de Fromentel", fore="Élodie")])
    e = _entries(export([art], "biblatex"))[0]
    assert _field(e, "title") == (r"Müller's {{\ensuremath{\Delta}}9-THC} at "
                                  r"{\ensuremath{\geq}} 5 {\textmu}g in {Øresund}")
    assert _field(e, "journaltitle") == "Revista Española"
    names = _field(e, "author")
    assert names[0].last == ["Øster-Ødegård"] and names[0].first == ["Ægir"]
    assert names[1].last == ["{Caron de Fromentel}"] and names[1].von == []


def test_biblatex_fields():
    art = by_pmid("20729678")  # Coar & Sewell, "2010 Sep-Oct"
    e = _entries(export([art], "biblatex"))[0]
    assert _field(e, "date") == "2010-09/2010-10"
    assert _field(e, "eprint") == art.pmid and _field(e, "eprinttype") == "pubmed"
    assert _field(e, "journaltitle") and _field(e, "journal") is None
    assert _field(e, "year") is None and _field(e, "month") is None
    underscored = Article(pmid="2", title="T.", pub_year=2017, doi="10.18388/abp.2017_1599",
                          languages=["ger"])
    e = _entries(export([underscored], "biblatex"))[0]
    assert _field(e, "doi") == "10.18388/abp.2017_1599"  # verbatim, as biblatex reads it
    assert _field(e, "langid") == "german"


def test_edtf_dates():
    assert edtf_date(PubDate(year=2019, month=2, day=4)) == "2019-02-04"
    assert edtf_date(PubDate(year=2010, month=12, end_year=2011, end_month=1)) == "2010-12/2011-01"
    assert edtf_date(PubDate(year=2002, season="Spring")) == "2002-21"
    assert edtf_date(PubDate(year=1998, season="Winter-Spring")) == "1998-24"
    assert edtf_date(PubDate(year=2001)) == "2001"
    assert edtf_date(PubDate()) is None


def test_outside_readers_read_every_record():
    arts = all_cases()
    text = export(arts, "biblatex")
    assert len(_entries(text)) == len(arts)
    data = pybtex.database.parse_string(text, "bibtex")
    assert [e.fields["pmid"] for e in data.entries.values()] == [a.pmid for a in arts]
