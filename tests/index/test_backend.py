"""index.backend is backend-neutral: importing it loads no Whoosh."""

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_backend_protocol_imports_no_whoosh() -> None:
    code = ("import sys, index.backend, index.analysis; "
            "assert not [m for m in sys.modules if m.startswith('whoosh')], 'whoosh imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_query_side_imports_no_whoosh() -> None:
    """Parsing, lowering, the searcher's pipeline and the Solr translation load no Whoosh: only
    the Whoosh backend (index/whoosh/) does, when the config asks for it. (index.solr's writing
    side still reads index.whoosh.schema's constants.)"""
    code = ("import sys, search.query, search.searcher, search.solr_searcher, index.lowering, "
            "index.query_plan, index.solr.translate, search.cli; "
            "assert not [m for m in sys.modules if m.startswith('whoosh')], 'whoosh imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_both_backends_implement_every_method_of_the_protocol() -> None:
    """WhooshBackend and SolrBackend take the protocol's parameters under its names, so the
    searcher can call either (the behaviour: tests/search/test_backend_contract.py)."""
    import inspect

    from index.backend import SearchBackend
    from index.solr.searching import SolrBackend
    from index.whoosh.backend import WhooshBackend

    methods = [n for n, v in vars(SearchBackend).items()
               if callable(v) and not n.startswith("_")]
    assert {"search", "doc_count", "refresh", "close", "term_weights", "known_word",
            "closest_word"} <= set(methods)
    for cls in (WhooshBackend, SolrBackend):
        for name in methods:
            want = list(inspect.signature(getattr(SearchBackend, name)).parameters)
            got = list(inspect.signature(getattr(cls, name)).parameters)
            assert got == want, (cls.__name__, name)
