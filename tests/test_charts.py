"""Charts of metrics broken down by time: what a person sees in the PNG, checked on the figure."""

from __future__ import annotations

import datetime as dt
import math
import struct
import subprocess
import sys

import pytest

from knowledge.answer import MetricResult, MetricRow, Period, Target
from metrics import charts
from tests.conftest import ROOT

YEAR = Period(start=dt.date(2026, 1, 1), end=dt.date(2027, 1, 1), label="2026", months=12)
MONTHS = [dt.date(2026, m, 1).isoformat() for m in range(1, 13)]
REGIONS = ("APAC", "EMEA", "LATAM", "NA")


def result(rows: list[MetricRow], dimensions: tuple[str, ...], *, fmt: str = "currency",
           grain: str | None = "month", target: Target | None = None,
           interpretation: str = "Bookings · 2026 (Jan 1 – Dec 31) · by month") -> MetricResult:
    """A result as the engine returns it for a breakdown (values are made up)."""
    return MetricResult(metric="bookings", name="Bookings", value=1.0, formatted="1 USD",
                        format=fmt, period=YEAR, dimensions=dimensions, rows=tuple(rows),
                        target=target, sql="SELECT 1", grain=grain,
                        interpretation=interpretation)


def monthly(values: list[float | None], **kw) -> MetricResult:
    rows = [MetricRow(dimensions={"month": m}, value=v, formatted=str(v))
            for m, v in zip(MONTHS, values, strict=False)]
    return result(rows, ("month",), **kw)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR is always the first chunk)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


BOOKINGS = [120_000.0 + 10_000 * i for i in range(12)]


def test_a_monthly_total_is_one_bar_per_month_with_its_value():
    chart = monthly(BOOKINGS)
    figure = charts.build_figure(chart)
    [ax] = figure.axes
    assert [bar.get_height() for bar in ax.patches] == BOOKINGS
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Jan\n2026" and labels[1:] == [
        "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert figure.get_suptitle() == "Bookings · 2026 (Jan 1 – Dec 31) · by month"
    assert ax.get_ylabel() == "Bookings (USD)" and ax.get_xlabel() == "Month"
    assert ax.yaxis.get_major_formatter()(150_000, 0) == "150k"
    assert ax.yaxis.get_major_formatter()(2_500_000, 0) == "2.5M"


def test_the_png_is_small_readable_and_the_same_every_time():
    chart = monthly(BOOKINGS)
    png = charts.draw(chart)
    assert png_size(png) == (800, 450)
    assert len(png) < 100_000
    assert charts.draw(chart) == png
    assert charts.draw(monthly([*BOOKINGS[:-1], 1.0])) != png  # it does show the numbers


def test_by_month_and_region_is_one_line_per_region_with_a_point_per_month():
    rows = [MetricRow(dimensions={"month": m, "region": r}, value=0.2 + 0.01 * i + 0.1 * j,
                      formatted="x")
            for i, m in enumerate(MONTHS) for j, r in enumerate(REGIONS)]
    rows[5] = rows[5].model_copy(update={"value": None})  # a month with nothing to divide by
    chart = result(rows, ("month", "region"), fmt="percent")
    figure = charts.build_figure(chart)
    [ax] = figure.axes
    assert [line.get_label() for line in ax.lines] == list(REGIONS)
    for j, line in enumerate(ax.lines):
        ys = line.get_ydata()
        assert len(ys) == 12
        assert [y for y in ys if not math.isnan(y)] == [
            r.value for r in rows[j::4] if r.value is not None]
    assert math.isnan(ax.lines[1].get_ydata()[1])  # EMEA in February: a gap, not a zero
    assert ax.yaxis.get_major_formatter()(0.25, 0) == "25%"
    assert ax.get_ylabel() == "Bookings (%)"
    [legend] = figure.legends
    assert legend.get_title().get_text() == "Region"
    assert len(charts.draw(chart)) < 100_000


def test_a_total_target_is_drawn_pro_rated_to_each_bucket_and_a_rate_target_as_it_is():
    yearly = Target(value=1_200_000.0, direction="at_least", formatted="at least 1,200,000 USD")
    [ax] = charts.build_figure(monthly(BOOKINGS, target=yearly)).axes
    [target] = [line for line in ax.lines if line.get_label() == "Target"]
    assert list(target.get_ydata()) == pytest.approx([100_000.0] * 12)

    rate = Target(value=0.25, direction="at_least", formatted="at least 25.0%")
    [ax] = charts.build_figure(monthly([0.2] * 12, fmt="percent", target=rate)).axes
    [target] = [line for line in ax.lines if line.get_label() == "Target"]
    assert list(target.get_ydata()) == [0.25] * 12


def test_weeks_of_a_year_keep_every_bar_but_label_only_some():
    weeks = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(45)]
    rows = [MetricRow(dimensions={"week": w.isoformat()}, value=float(i), formatted=str(i))
            for i, w in enumerate(weeks)]
    [ax] = charts.build_figure(result(rows, ("week",), fmt="count", grain="week")).axes
    assert len(ax.patches) == 45
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert shown[0] == "Jan 5\n2026" and 5 <= len(shown) <= charts.MAX_TICKS
    assert ax.get_ylabel() == "Bookings (count)" and ax.get_xlabel() == "Week starting"


def test_without_an_interpretation_the_title_names_the_metric_period_and_breakdown():
    figure = charts.build_figure(monthly(BOOKINGS, interpretation=""))
    assert figure.get_suptitle() == "Bookings · 2026 · by month"


def test_results_without_a_time_breakdown_or_values_are_not_drawn_as_trends():
    total = MetricResult(metric="bookings", name="Bookings", value=1.0, formatted="1 USD",
                         format="currency", period=YEAR, sql="SELECT 1")
    assert not charts.chartable(total) and not charts.by_time(total)
    with pytest.raises(ValueError, match="no breakdown"):
        charts.draw(total)
    assert not charts.chartable(monthly([None] * 12, fmt="percent"))
    segments = result([MetricRow(dimensions={"segment": s}, value=1.0, formatted="1")
                       for s in ("SMB", "Enterprise")], ("segment",), grain=None)
    assert charts.chartable(segments) and not charts.by_time(segments)


def test_importing_charts_does_not_import_matplotlib():
    probe = "import sys, metrics.charts; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
