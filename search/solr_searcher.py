"""Searching a SolrCloud collection (``index.backend: solr``) with the same requests and answers
as the embedded index.

A SolrSearcher is a Searcher whose backend is index.solr.searching.SolrBackend: the same
pipeline (parse and lower the query, filter, run, order, page, re-rank, snippets from the record
store), so a page looks the same on both backends. ``Searcher(settings)`` returns one when the
config says ``index.backend: solr``.
"""

from __future__ import annotations

from search.searcher import Searcher


class SolrSearcher(Searcher):
    """A Searcher over ketlit's SolrCloud collection (see the module docstring)."""
