"""The SolrCloud backend (``index.backend: solr``): ketlit's own collection on a SolrCloud.

client.py talks HTTP with failover over the configured URLs; configset/ and collection.py make
and check the collection; documents.py turns an Article into a Solr document carrying ketlit's
own analysis; translate.py turns a compiled query into Solr's syntax; backend.py writes, searches,
counts facets and streams ids. The record store stays the source of truth: Solr holds only what
searching needs, and ``ketlit reindex`` rebuilds it from the store.
"""
