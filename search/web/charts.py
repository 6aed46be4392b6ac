"""Results by year, as PubMed shows it: a small bar chart drawn as inline SVG.

The geometry is computed here (plain numbers) and drawn by templates/_year_chart.html, so the
chart needs no script and no asset from the internet, and every bar is a link that filters the
search to its year. Years without records inside the range get an empty slot, so the shape over
time is honest.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 260  # viewBox units; the SVG scales to the sidebar's width
HEIGHT = 64
MAX_YEARS = 80  # older years than this (from the newest) are folded into the first bar's range


@dataclass(frozen=True)
class Bar:
    year: int
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class YearChart:
    bars: list[Bar]
    first: int
    last: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bars)


def year_chart(years: dict[str, int], max_years: int = MAX_YEARS) -> YearChart | None:
    """The chart of a year facet ({"2021": 12, ...}), or None when there is nothing to draw."""
    counts: dict[int, int] = {}
    for key, n in years.items():
        try:
            y = int(key)
        except (TypeError, ValueError):
            continue
        if n > 0:
            counts[y] = counts.get(y, 0) + n
    if not counts:
        return None
    last = max(counts)
    first = max(min(counts), last - max_years + 1)
    # Years before the window (rare: records from the 1950s) count into the first bar, so the
    # chart's total is still the result set's.
    early = sum(n for y, n in counts.items() if y < first)
    span = list(range(first, last + 1))
    values = [counts.get(y, 0) + (early if y == first else 0) for y in span]
    peak = max(values)
    slot = WIDTH / len(span)
    gap = min(2.0, slot * 0.2)
    bars = []
    for y, n in zip(span, values, strict=True):
        if n == 0:
            continue
        h = max(1.5, (HEIGHT - 2) * n / peak)
        bars.append(Bar(year=y, count=n, x=round((y - first) * slot + gap / 2, 2),
                        y=round(HEIGHT - h, 2), width=round(slot - gap, 2), height=round(h, 2)))
    return YearChart(bars=bars, first=first, last=last, peak=peak)

