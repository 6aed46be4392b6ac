"""The Porter2 stemmer ketlit's index was built with: Whoosh's own (whoosh.lang.porter2).

index.analysis stems through this module so that the one import of Whoosh stays inside
index/whoosh. Not replaced by snowballstemmer or PyStemmer: they implement the current Snowball
English, which stems 75 of the 30,826 words of the scifact corpus differently (internal,
organic, universities, added, ...), and the stems are part of the index format and of the
ranking figures. whoosh-reloaded is pinned exactly (pyproject.toml), so the stems cannot change
under an upgrade.
"""

from __future__ import annotations

from whoosh.lang.porter2 import stem

__all__ = ["stem"]
