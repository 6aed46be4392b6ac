"""search.query_syntax: the tag tables agree with each other and with the evidence registry."""

from __future__ import annotations

from index.evidence import LABEL_FACETS
from search.query_syntax import FIELDS, KEY_TAGS, SUBSETS, TAGS, known_tags


def test_every_whole_value_tag_is_a_tag_of_the_keys_field() -> None:
    assert set(KEY_TAGS) <= set(TAGS)
    assert all(TAGS[tag] == ("keys",) or TAGS[tag] == ("mesh",) or TAGS[tag] == ("journal",)
               for tag in KEY_TAGS)
    assert set(SUBSETS.values()) <= set(SUBSETS)  # every subset is also its own name


def test_evidence_facets_are_tags_of_their_own_namespace() -> None:
    for name in LABEL_FACETS:
        assert TAGS[name] == ("keys",) and KEY_TAGS[name] == name
        assert name in known_tags()


def test_known_tags_are_the_short_forms() -> None:
    tags = known_tags()
    assert tags == sorted(tags) and {"tiab", "au", "mh", "pt", "dp"} <= set(tags)
    assert "title/abstract" not in tags and "mesh terms" not in tags
    assert FIELDS["type"] == ("pubtype",)
