"""search.request: the answer's JSON shape (every facet group present, rounded scores, the short
form for batch runs) and its page count."""

from __future__ import annotations

from index.article import Article
from search.request import FACET_KEYS, Hit, SearchResponse


def test_json_has_every_facet_group_and_rounded_scores() -> None:
    art = Article(pmid="1", title="Ketamine", pub_year=2020, annotations={"design": ["rct"]})
    resp = SearchResponse(query="ketamine", total=41, page=2, per_page=20,
                          hits=[Hit(art, 1.234567, "<mark>Ketamine</mark>")],
                          facets={"year": {"2020": 41}})
    out = resp.to_json()
    assert set(out["facets"]) == set(FACET_KEYS) and out["facets"]["year"] == {"2020": 41}
    assert out["facets"]["design"] == {}
    hit = out["results"][0]
    assert hit["score"] == 1.2346 and hit["annotations"] == {"design": ["rct"]}
    assert "suggestion" not in out and "notices" not in out
    assert resp.to_json(short=True) == {"total": 41, "results": out["results"]}
    assert resp.pages == 3
    assert SearchResponse(query="", total=0, page=1, per_page=20).pages == 1
