"""The number of people a study counts, from its title and abstract (rules.yaml, participants):
"a total of N" when written; else, sentence by sentence, its group counts (a whole and its parts
counted once), comparison people counted apart joining the patients, and the parts of a study
adding up."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from index.annotations.patterns import _rx, _trie


@dataclass(frozen=True)
class Count:
    patterns: tuple[re.Pattern[str], ...]  # group counts, each with a group named n
    # per pattern: literals one of which the text must hold for it to run (None: always)
    pattern_keys: tuple[tuple[str, ...] | None, ...]
    sizes: tuple[re.Pattern[str], ...]  # "n = 12" group sizes
    total: tuple[re.Pattern[str], ...]  # "a total of N": preferred when present
    share: re.Pattern[str] | None  # "(56%": group p, a share of the sample ...
    implied: re.Pattern[str] | None  # "29 patients" just before it (group n): n*100/p people
    words: dict[str, int]
    maximum: int
    label: re.Pattern[str] | None  # just before a number: it names, not counts ("year 10")
    whole: re.Pattern[str] | None  # just before a count: it is a whole ("of 802 patients")
    comparison: re.Pattern[str] | None  # in a count's words: comparison people (controls)
    part: re.Pattern[str] | None  # a sentence opening a part of the study ("in experiment 2")
    sample: re.Pattern[str] | None  # a sentence naming one of several samples ("a second group")
    subset: re.Pattern[str] | None  # just before a count: it is part of the sentence's earlier one
    chosen: re.Pattern[str] | None = None  # a part of a whole picked for the study ("571 were included")


def load_count(c: dict[str, Any]) -> Count:
    """The participants section of rules.yaml, compiled."""
    lists = {"{nouns}": _trie(c.get("nouns") or ()), "{skip}": _trie(c.get("skip") or ()),
             "{numwords}": _trie(str(w) for w in c.get("words") or ()
                                  if "-" not in str(w) and w != "hundred")}
    # a number in words: "twenty-four", "five-hundred", "five hundred and thirty-eight"
    lists["{wordnum}"] = ("{numwords}(?:-{numwords})?(?:[- ]hundred(?:(?: and)? {numwords}"
                          "(?:-{numwords})?)?)?").replace("{numwords}", lists["{numwords}"])

    def fill(pattern: str) -> str:
        for key, value in lists.items():
            pattern = pattern.replace(key, value)
        return pattern

    # a pattern is a string, or {any: pattern, keys: [...]} for one that opens with no literal
    # sre can search for and so is scanned only when one of its keys is in the text
    raw = [p if isinstance(p, dict) else {"any": p} for p in c.get("patterns") or ()]
    c["patterns"] = [fill(p["any"]) for p in raw]
    keys = tuple(tuple(p["keys"]) if p.get("keys") else None for p in raw)
    c["total"] = [fill(p) for p in c.get("total") or ()]
    implied = c.get("implied") or {}
    implied_count = fill(implied.get("count") or "")
    return Count(tuple(_rx(p, "participants") for p in c["patterns"]), keys,
                  tuple(_rx(p, "participants sizes") for p in c.get("sizes") or ()),
                  tuple(_rx(p, "participants total") for p in c.get("total") or ()),
                  _rx(implied.get("share"), "participants implied share"),
                  _rx(implied_count, "participants implied count"),
                  {str(k).lower(): int(v) for k, v in c["words"].items()},
                  int(c.get("maximum", 10**7)), _rx(c.get("label"), "participants label"),
                  _rx(fill(c.get("whole") or ""), "participants whole"),
                  _rx(c.get("comparison"), "participants comparison"),
                  _rx(c.get("part"), "participants part"),
                  _rx(c.get("sample"), "participants sample"),
                  _rx(c.get("subset"), "participants subset"),
                  _rx(fill(c.get("chosen") or ""), "participants chosen"))


_FULL_STOP = re.compile(r"[.!?]\s+|\n")  # the title ends at \n; "(n = 10; ...), and 16" is one sentence
_PARENS = re.compile(r"\([^()]*\)")
_WORD_SPLIT = re.compile(r"[\s-]+")


def count_participants(count: Count, text: str) -> int | None:
    """People studied: "a total of N" when written; else, sentence by sentence, the sum of the
    group counts it gives ("44 patients and 88 matched controls" is 132; counts in parentheses
    are subgroups and "n = " sizes are summed apart), and the largest sentence wins."""
    def value(tok: str) -> int | None:
        digits = tok.replace(",", "").replace(" ", "")
        if digits.isdigit():
            return int(digits)
        # "ninety-five", "five-hundred", "five hundred and thirty-eight"
        n = 0
        for word in _WORD_SPLIT.split(tok):
            if word == "hundred":
                n = (n or 1) * 100
            elif word != "and":
                v = count.words.get(word)
                if v is None:
                    return None
                n += v
        return n or None

    def is_whole(hay: str, at: int) -> bool:
        return count.whole is not None and count.whole.search(hay, max(0, at - 40), at) is not None

    for rx in count.total:
        m = rx.search(text)
        if m:
            v = value(m.group("n"))
            if v and v <= count.maximum:
                return v
    # Each pattern scans the whole text once; matches are then grouped by sentence (offsets).
    starts = [0] + [m.end() for m in _FULL_STOP.finditer(text)]
    outside = _PARENS.sub(lambda m: " " * len(m.group(0)), text)  # same offsets
    groups: dict[int, dict[int, int]] = {}
    sizes: dict[int, dict[int, int]] = {}
    wholes: dict[int, int] = {}  # sentence -> its largest whole ("of 802 patients")
    compared: dict[int, bool] = {}  # sentence -> all its group counts are comparison people
    subsets: list[tuple[int, int]] = []  # (sentence, offset) of counts opening a subset clause
    patterns = tuple(rx for rx, keys in zip(count.patterns, count.pattern_keys, strict=True)
                     if keys is None or any(k in text for k in keys))
    for pats, hay, into in ((patterns, outside, groups), (count.sizes, text, sizes)):
        for rx in pats:
            for m in rx.finditer(hay):
                at = m.start("n")
                if at and (hay[at - 1].isalnum() or hay[at - 1] == "."):  # "0.5 mg", "112", "often"
                    continue
                if count.label is not None and count.label.search(hay, max(0, at - 16), at):
                    continue
                v = value(m.group("n"))
                if v and m.groupdict().get("g"):  # "2 groups of 12 volunteers"
                    v *= value(m.group("g")) or 1
                if v and v <= count.maximum:
                    k = bisect_right(starts, at)
                    if (into is groups and count.subset is not None
                            and count.subset.search(hay, max(0, at - 30), at)):
                        subsets.append((k, at))
                    into.setdefault(k, {})[at] = v
                    if into is groups:
                        if is_whole(hay, at):
                            wholes[k] = max(wholes.get(k, 0), v)
                        compared[k] = compared.get(k, True) and bool(
                            count.comparison and count.comparison.search(m.group(0)))
    # A count opening a clause about some of the people counted before it in its sentence is a
    # part of them, and so are the counts after it ("20 enrolled, with fifteen participants
    # receiving all doses"; "61 users took part, with 33 females and 28 males").
    for k, at in subsets:
        if any(other < at for other in groups[k]):
            groups[k] = {o: v for o, v in groups[k].items() if o < at}
    people = {k: max(g.values()) if k in wholes else _people(g.values())
              for k, g in groups.items()}
    # The part of a whole that the study picked is the people it studied ("Of the 1,699 eligible
    # patients, 571 (34%) were included"; "Fourteen of 67 patients were randomly selected").
    if count.chosen is not None:
        for k in wholes:
            end = starts[k] if k < len(starts) else len(text)
            at = starts[k - 1]
            while (m := count.chosen.search(outside, at, end)) is not None:
                v = value(m.group("n"))
                if v and v < wholes[k]:  # the whole itself may open the match: look past it
                    people[k] = v
                    break
                at = m.end("n")
    best = max([*people.values()] + [_sized(g) for g in sizes.values()], default=0)
    # Comparison people counted in a sentence of their own join the patients counted elsewhere
    # ("Twenty patients with TRD ... Twenty matched healthy volunteers were scanned").
    own = [v for k, v in people.items() if not compared[k]]
    extra = [v for k, v in people.items() if compared[k]]
    if own and extra:
        best = max(best, max(own) + max(extra))
    # The parts of a study in sentences of their own ("In experiment 1, 48 participants ...;
    # in experiment 2, 19 users and 45 controls") add up.
    if count.part is not None:
        parts: dict[str, int] = {}
        for k in {*groups, *sizes}:
            m = count.part.match(text, starts[k - 1])
            if m is None and count.sample is not None:
                end = starts[k] if k < len(starts) else len(text)
                m = count.sample.search(text, starts[k - 1], end)
            if m:
                key = m.groupdict().get("k") or m.group(0).split()[-1]
                n = max(people.get(k, 0), _sized(sizes[k]) if k in sizes else 0)
                parts[key] = max(parts.get(key, 0), n)
        if len(parts) > 1:
            best = max(best, sum(parts.values()))
    # A share of the sample ("29 patients (56%)") implies its size when no count says more.
    if count.share is not None and count.implied is not None:
        for s in count.share.finditer(text):
            m = count.implied.search(text, max(0, s.start() - 120), s.start())
            if m is None or (m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == ".")):
                continue
            if is_whole(text, m.start()):  # "four of 7 patients (57%)": four's share
                continue
            v, share = value(m.group("n")), float(s.group("p"))
            if v and 1 <= share < 100:
                best = max(best, round(v * 100 / share))
    return best or None


def _sized(sizes: dict[int, int]) -> int:
    """The people one sentence's "n = " sizes count. Sizes given twice in the same order are one
    set of groups ("(n = 19) ... or placebo (n = 21) [SAGE-718: n = 19, age ...; Placebo: n = 21,
    age ...]": the arms, then the same arms' characteristics)."""
    values = [sizes[at] for at in sorted(sizes)]
    half = len(values) // 2
    if len(values) % 2 == 0 and half > 1 and values[:half] == values[half:]:
        values = values[:half]
    return _people(values)


def _people(counts: Any) -> int:
    """The people one sentence counts: the sum of its groups ("44 patients and 88 controls"),
    unless one count is (about) the sum of two or more others: a whole and its parts ("117 subjects: 30
    current users, 29 former users, ..."; "n = 78 ... ketamine (n = 39) or midazolam (n = 39)")."""
    values = sorted(counts)
    top, rest = values[-1], sum(values[:-1])
    if len(values) > 2 and 0.9 * top <= rest <= top:
        return top
    return top + rest
