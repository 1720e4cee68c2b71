"""A metric broken down by time (or by one dimension) drawn as a small PNG for chat.

Additive numbers (counts, amounts) are bars, rates and averages are lines; a breakdown by time
and a dimension is one line per dimension value. matplotlib is imported on the first drawing
only: answering never pays for it, and the figure is built without pyplot, so no global state
is shared between threads except the rc settings, which a lock guards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.answer import DEMO, MetricResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
GRAIN_DAYS = {"day": 1, "week": 7}
AXIS_NAMES = {"day": "Day", "week": "Week starting", "month": "Month", "quarter": "Quarter",
              "year": "Year"}
MAX_SERIES = 8
MAX_TICKS = 12
MARKERS_UP_TO = 24  # points per line; past that, markers only hide the line
PALETTE = 128
# 800 x 450 px: legible when Slack shrinks it to its preview width, and well under 100 KB.
SIZE_IN = (8.0, 4.5)
DPI = 100
_ADDITIVE = ("count", "currency")
# Fixed, so a chart never depends on a matplotlibrc found on the machine.
_STYLE = {"font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11,
          "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
          "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
          "axes.grid.axis": "y", "grid.color": "#dddddd"}
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class Series:
    """One line or set of bars: a label and a value per bucket (NaN where there is none)."""

    label: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, before any drawing: buckets along x, series, titles."""

    title: str
    x_label: str
    y_label: str
    ticks: tuple[str, ...]
    series: tuple[Series, ...]
    bars: bool
    target: tuple[float, ...] | None = None
    legend_title: str | None = None
    note: str | None = None


def chartable(result: MetricResult) -> bool:
    """Whether the result has a breakdown with at least one value to draw."""
    return bool(result.dimensions) and any(
        row.value is not None and math.isfinite(row.value) for row in result.rows)


def by_time(result: MetricResult) -> bool:
    """Whether the result is broken down by a time grain (a trend people would look at)."""
    return _grain(result) is not None and chartable(result)


def draw(result: MetricResult, currency: str = "USD") -> bytes:
    """The result as PNG bytes; the same result always gives the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    data = _checked(result, currency)
    with _style():
        canvas = FigureCanvasAgg(_figure(data, result.format))
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    # A chart has a few flat colours and their anti-aliased edges: a palette keeps it looking
    # the same at a third of the size of full colour (a busy weekly chart: 30 KB, not 100).
    flat = image.convert("RGB").quantize(PALETTE, Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    flat.save(buffer, format="png")  # no metadata: the same result gives the same bytes
    return buffer.getvalue()


def build_figure(result: MetricResult, currency: str = "USD") -> Figure:
    """The matplotlib figure `draw` renders (ValueError for a result with nothing to draw)."""
    data = _checked(result, currency)
    with _style():
        return _figure(data, result.format)


def _checked(result: MetricResult, currency: str) -> ChartData:
    if not chartable(result):
        raise ValueError(f"{result.name} has no breakdown with values to draw")
    return chart_data(result, currency)


def chart_data(result: MetricResult, currency: str = "USD") -> ChartData:
    """Buckets, series and labels for a result with a breakdown."""
    grain = _grain(result)
    along = grain or result.dimensions[0]
    others = [d for d in result.dimensions if d != along]
    keys = _x_keys(result, along, grain)
    series, note = _series(result, along, keys, others)
    bars = result.format in _ADDITIVE and len(series) == 1
    unit = {"currency": currency, "percent": "%", "days": "days", "hours": "hours",
            "multiple": "×", "count": "count"}[result.format]
    legend = " · ".join(_words(d) for d in others) + (f" ({note})" if note else "")
    return ChartData(
        title=_title(result),
        x_label=AXIS_NAMES[grain] if grain else _words(along),
        y_label=f"{result.name} ({unit})",
        ticks=_ticks(keys, grain),
        series=series, bars=bars,
        target=_target(result, grain, keys) if not others else None,
        legend_title=legend or None,
        note=DEMO if result.demo else None,
    )


def _grain(result: MetricResult) -> str | None:
    return result.grain if result.grain in result.dimensions else None


def _x_keys(result: MetricResult, along: str, grain: str | None) -> list[str | None]:
    keys = list(dict.fromkeys(row.dimensions.get(along) for row in result.rows))
    if grain:  # ISO dates sort in time order
        return sorted(keys, key=lambda k: k or "")
    return keys  # the engine's order (by value, by name): kept as the table shows it


def _series(result: MetricResult, along: str, keys: list[str | None],
            others: list[str]) -> tuple[tuple[Series, ...], str | None]:
    position = {k: i for i, k in enumerate(keys)}
    columns: dict[str, list[float]] = {}
    for row in result.rows:
        label = " · ".join(row.dimensions.get(d) or "(none)" for d in others) or result.name
        values = columns.setdefault(label, [math.nan] * len(keys))
        if row.value is not None:
            values[position[row.dimensions.get(along)]] = row.value
    labels = sorted(columns)
    note = None
    if len(labels) > MAX_SERIES:  # more lines than anyone can tell apart: the largest ones
        note = f"largest {MAX_SERIES} of {len(labels)}"
        labels = sorted(sorted(labels, key=lambda s: -_size(columns[s]))[:MAX_SERIES])
    return tuple(Series(s, tuple(columns[s])) for s in labels), note


def _size(values: list[float]) -> float:
    return sum(abs(v) for v in values if not math.isnan(v))


def _title(result: MetricResult) -> str:
    title = result.interpretation
    if not title:
        parts = [result.name, result.period.label if result.period else None,
                 *(f"{k.replace('_', ' ')} in {_value_text(v)}"
                   for k, v in result.filters.items()),
                 f"by {' and '.join(d.replace('_', ' ') for d in result.dimensions)}"]
        title = " · ".join(p for p in parts if p)
    return "\n".join(textwrap.wrap(title, 80, max_lines=2, placeholder=" …"))


def _value_text(value: object) -> str:
    return ", ".join(value) if isinstance(value, tuple | list) else str(value)


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _ticks(keys: list[str | None], grain: str | None) -> tuple[str, ...]:
    """Bucket labels, every n-th when they do not all fit; the year where it changes."""
    step = max(1, math.ceil(len(keys) / MAX_TICKS))
    ticks, year = [], None
    for i, key in enumerate(keys):
        if i % step or key is None or grain is None:
            ticks.append("" if i % step else key or "(none)")
            continue
        day = dt.date.fromisoformat(key)
        label = _bucket(day, grain)
        if grain in ("day", "week", "month") and day.year != year:
            label += f"\n{day.year}"
        year = day.year
        ticks.append(label)
    return tuple(ticks)


def _bucket(day: dt.date, grain: str) -> str:
    if grain in ("day", "week"):
        return f"{day:%b} {day.day}"
    if grain == "month":
        return f"{day:%b}"
    last = _next(day, grain) - dt.timedelta(days=1)
    if grain == "quarter":  # by month names: right for any fiscal year
        return f"{day:%b}–{last:%b}\n{last.year}"
    return str(day.year) if day.month == 1 else f"{day:%b %Y}–\n{last:%b %Y}"


def _next(day: dt.date, grain: str) -> dt.date:
    if grain in GRAIN_DAYS:
        return day + dt.timedelta(days=GRAIN_DAYS[grain])
    index = day.year * 12 + day.month - 1 + GRAIN_MONTHS[grain]
    return dt.date(index // 12, index % 12 + 1, 1)


def _target(result: MetricResult, grain: str | None,
            keys: list[str | None]) -> tuple[float, ...] | None:
    """The target per bucket: as it is for a rate, pro-rated to each bucket for a total."""
    target, period = result.target, result.period
    if target is None or grain is None or None in keys:
        return None
    if result.format not in _ADDITIVE:
        return (target.value,) * len(keys)
    if period is None:
        return None
    starts = [dt.date.fromisoformat(k) for k in keys]
    share = []
    for start in starts:  # the bucket's part of the asked period, which may clip it
        lo, hi = max(start, period.start), min(_next(start, grain), period.end)
        share.append(_span(lo, hi) / _span(period.start, period.end))
    return tuple(target.value * s for s in share)


def _span(start: dt.date, end: dt.date) -> float:
    """Whole months when both ends are month starts (a month is a month), else days."""
    if start.day == 1 and end.day == 1:
        return float(max((end.year - start.year) * 12 + end.month - start.month, 0))
    return max((end - start).days, 0) / (365.25 / 12)


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with _DRAWING, matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(_STYLE)
        yield


def _figure(data: ChartData, fmt: str) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_IN, dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    xs = range(len(data.ticks))
    if data.bars:
        ax.bar(xs, _zeros(data.series[0].values), width=0.7, color="#3b6ea8",
               label=data.series[0].label)
    else:
        for series in data.series:
            ax.plot(xs, series.values, marker="o" if len(xs) <= MARKERS_UP_TO else "",
                    markersize=4, linewidth=2, label=series.label)
    if data.target:
        ax.plot(xs, data.target, linestyle="--", color="#c0392b", linewidth=1.5,
                drawstyle="steps-mid" if data.bars else "default", label="Target")
    shown = [i for i, tick in enumerate(data.ticks) if tick]
    ax.set_xticks(shown, [data.ticks[i] for i in shown])
    ax.set_xlabel(data.x_label)
    ax.set_ylabel(data.y_label)
    ax.yaxis.set_major_formatter(_formatter(fmt))
    if all(v >= 0 for s in data.series for v in s.values if not math.isnan(v)):
        ax.set_ylim(bottom=0)
    ax.set_axisbelow(True)
    figure.suptitle(data.title, fontsize=13, fontweight="bold")
    if data.note:
        ax.set_title(data.note, fontsize=9, color="#666666")
    if len(data.series) > 1 or data.target:
        figure.legend(loc="outside lower center", ncols=min(len(data.series) + 1, 5),
                      title=data.legend_title, frameon=False)
    return figure


def _zeros(values: tuple[float, ...]) -> list[float]:
    return [0.0 if math.isnan(v) else v for v in values]


def _formatter(fmt: str):
    from matplotlib.ticker import FuncFormatter

    def compact(value: float, _pos: int) -> str:
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:.3g}{suffix}"
        return f"{value:,.0f}" if value == int(value) else f"{value:.3g}"

    shown = {"percent": lambda v, _p: f"{v * 100:.3g}%", "multiple": lambda v, _p: f"{v:.3g}×"}
    return FuncFormatter(shown.get(fmt, compact))
