"""Fuzzing: schemathesis drives every API operation from the published /openapi.json (in-process,
through the ASGI app over a real index) and checks no answer is a 5xx, every status code and
content type is documented, and every body matches its documented schema. Hypothesis also throws
arbitrary query strings at the HTML pages, which must never answer 5xx either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from index.settings import Settings
from search.web.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection]
FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


# The OpenAPI document does not depend on the data, so it is read at import time from an app
# over a placeholder data dir (schemathesis' lazy from_fixture does not work with pytest 9); each
# case is then sent to the app over the real index.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(data_dir=Path("/nonexistent/ketlit-fuzz"))))


@pytest.fixture(scope="module")
def fuzz_app(web_settings: Settings):
    return create_app(web_settings)


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_openapi_and_never_5xx(case, fuzz_app) -> None:
    # positive_data_acceptance is left out on purpose: a random string is a valid `q` by the
    # schema but is often a malformed query, which rightly answers 400.
    case.call_and_validate(app=fuzz_app, checks=CHECKS)


@pytest.fixture(scope="module")
def page_client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings), raise_server_exceptions=False) as c:
        yield c


_NAMES = st.sampled_from(["q", "topic", "from", "to", "type", "lang", "has_abstract",
                          "no_retracted", "match", "sort", "limit", "page", "since", "scope",
                          "format", "pmids"])
_VALUES = st.one_of(st.text(max_size=40), st.integers(-10**12, 10**12).map(str),
                    st.sampled_from(["", "*", "ketamine AND (", "\"", "[tiab]", "0", "1",
                                     "2024", "ris", "all", "selected", "99000001"]))


@given(path=st.sampled_from(["/", "/new", "/export", "/records/99000001", "/records/1",
                             "/records/x%00"]),
       params=st.lists(st.tuples(_NAMES, _VALUES), max_size=6))
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_pages_never_answer_5xx(page_client: TestClient, path: str,
                                params: list[tuple[str, str]]) -> None:
    r = page_client.get(f"{path}?{urlencode(params)}", follow_redirects=False)
    assert r.status_code < 500, (path, params, r.text[:500])
