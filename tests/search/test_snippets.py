"""search.snippets: the passage of an abstract with the most matched words, matches marked,
everything else escaped, both edges on word boundaries."""

from __future__ import annotations

import html
import random
import re

from search.snippets import make_snippet, snippet_window


def re_strip(s: str) -> str:
    return re.sub(r"</?mark>", "", s)


def test_snippet_picks_the_passage_with_most_matches() -> None:
    text = ("Filler words here. " * 20 + "Ketamine reduced depression quickly. " +
            "More filler text follows. " * 20)
    snip = make_snippet(text, frozenset({"ketamin", "depress"}), width=120)
    assert "<mark>Ketamine</mark> reduced <mark>depression</mark>" in snip
    assert snip.startswith("\u2026 ") and snip.endswith(" \u2026")
    assert len(re_strip(snip)) <= 130
    assert make_snippet("short text", frozenset({"zzz"})) == "short text"


def test_words_are_matched_through_the_analysis_and_markup_escaped() -> None:
    snip = make_snippet("<b>Depressive</b> symptoms & ketamine effect",
                        frozenset({"depress", "ketamin"}))
    assert snip == ("&lt;b&gt;<mark>Depressive</mark>&lt;/b&gt; symptoms &amp; "
                    "<mark>ketamine</mark> effect")
    # Only whole written words are marked: no match inside "antidepressant".
    assert "<mark>" not in make_snippet("antidepressant use", frozenset({"depress"}))


def test_snippets_start_and_end_on_word_boundaries() -> None:
    rng = random.Random(7)
    words = ["ketamine", "depression", "esketamine", "placebo-controlled", "trial", "of",
             "antidepressant", "response", "in", "patients", "Supercalifragilisticexpialidocious"
             * 3, "the", "and"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 120)))
        snip = make_snippet(text, frozenset({"ketamin", "depress"}), width=rng.choice([60, 120]))
        plain = html.unescape(snip.replace("<mark>", "").replace("</mark>", ""))
        body = plain.removeprefix("\u2026 ").removesuffix(" \u2026")
        at = text.find(body)
        assert at >= 0, (text, snip)
        assert at == 0 or text[at - 1] == " ", snip
        assert at + len(body) == len(text) or text[at + len(body)] == " ", snip


def test_window_keeps_some_context_before_the_match() -> None:
    text = " ".join(f"w{i:02d}" for i in range(60))  # words of 3 letters, 4 with the space
    match = text.index("w30")
    lead, end = snippet_window(text, match, match + 3, 40)
    assert 0 < lead < match and text[lead - 1] == " "
    assert end - lead <= 40 and text[end] == " "
    assert snippet_window("ketamine", 0, 8, 40) == (0, 8)
