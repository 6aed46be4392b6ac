"""The year chart's geometry and the stats histogram: every year drawn, heights to scale."""

from __future__ import annotations

from search.stats import text_histogram
from search.web.charts import HEIGHT, WIDTH, year_chart


def test_bars_cover_the_range_scaled_to_the_peak() -> None:
    chart = year_chart({"2018": 2, "2020": 8, "2021": 4, "x": 3})
    assert chart is not None
    assert (chart.first, chart.last, chart.peak, chart.total) == (2018, 2021, 8, 14)
    by_year = {b.year: b for b in chart.bars}
    assert set(by_year) == {2018, 2020, 2021}  # 2019 keeps its empty slot
    assert by_year[2020].height == HEIGHT - 2 and by_year[2020].y == 2
    assert by_year[2021].height == (HEIGHT - 2) / 2
    assert by_year[2021].x > by_year[2020].x > by_year[2018].x
    assert all(b.x >= 0 and b.x + b.width <= WIDTH for b in chart.bars)


def test_old_years_fold_into_the_first_bar_and_empty_draws_nothing() -> None:
    chart = year_chart({"1950": 1, "2000": 5, "2020": 2}, max_years=10)
    assert chart is not None and chart.first == 2011 and chart.total == 8
    assert chart.bars[0].year == 2011 and chart.bars[0].count == 6
    assert year_chart({}) is None and year_chart({"2020": 0}) is None


def test_text_histogram_has_counts_and_bars() -> None:
    lines = text_histogram({"2020": 10, "2021": 5, "2001": 1, "2000": 2}, rows=3, width=10)
    assert lines[0] == "  2021   5  █████"
    assert lines[1] == "  2020  10  ██████████"
    assert lines[2] == "  2001   1  █"
    assert lines[3] == "  2000-2000  2 (earlier years)"
