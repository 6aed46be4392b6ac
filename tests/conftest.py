"""Fixtures shared by the whole suite. Shared test data is read from ../shared/data, never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import EFETCH_XML, PUBMED_DATA, SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared test data not found at {SHARED} (set KETLIT_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def pubmed_dir(shared_dir: Path) -> Path:
    return PUBMED_DATA


@pytest.fixture(scope="session")
def efetch_files(shared_dir: Path) -> list[Path]:
    """Every efetch XML file in the shared data (each a <PubmedArticleSet>)."""
    return sorted(EFETCH_XML.rglob("*.xml"))
