"""Against a running `ketlit serve`: hostile queries cost little and never hold up others."""

from __future__ import annotations

import threading

import pytest
import requests

# Starts processes, servers or harvests (the quick loop deselects it: -m "not slow").
pytestmark = pytest.mark.slow

HOSTILE = ['"a b"~999999999999', "(" * 400 + "ketamine" + ")" * 400,
           " OR ".join(f"{w}*" for w in ("pat", "neu", "can", "con", "res", "pro", "dep")) * 3]


def test_a_hostile_and_a_normal_search_at_once(server: str) -> None:
    answers: dict[str, int] = {}
    normal_done = threading.Event()

    def hostile() -> None:
        for i, q in enumerate(HOSTILE):
            r = requests.get(f"{server}/api/search", params={"q": q}, timeout=60)
            answers[f"hostile{i}"] = r.status_code

    def normal() -> None:
        r = requests.get(f"{server}/api/search", params={"q": "cancer"}, timeout=60)
        answers["normal"] = r.status_code
        normal_done.set()

    threads = [threading.Thread(target=hostile), threading.Thread(target=normal)]
    for t in threads:
        t.start()
    assert normal_done.wait(30), "the normal search was not answered while hostile ones ran"
    for t in threads:
        t.join(60)
    assert answers["normal"] == 200
    # Refused with a clear 400 (proximity, nesting) or answered; never a 500.
    assert answers["hostile0"] == 400 and answers["hostile1"] == 400
    assert answers["hostile2"] in (200, 400)
    r = requests.get(f"{server}/api/search", params={"q": HOSTILE[1]}, timeout=30)
    assert "nested deeper than" in r.json()["detail"]
