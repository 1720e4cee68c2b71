"""Periods people ask for, resolved to half-open date ranges against a given "today"."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from knowledge.answer import Period
from metrics.errors import BadRequest

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
PERIOD_HELP = ("this_quarter, last_quarter, this_month, last_month, this_year, last_year, ytd, "
               "qtd, 2026-Q3, Q3 2026, 2026-05, May 2026, 2026, 2026-01-01..2026-03-31")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Calendar:
    """Today and the fiscal year's first month; fiscal years are named by the year they end."""

    today: dt.date
    fiscal_start: int = 1

    def fiscal_year_start(self, fiscal_year: int) -> dt.date:
        return dt.date(fiscal_year - (self.fiscal_start != 1), self.fiscal_start, 1)

    def fiscal_year_of(self, day: dt.date) -> int:
        return day.year + (self.fiscal_start != 1 and day.month >= self.fiscal_start)

    def quarter(self, fiscal_year: int, q: int) -> Period:
        start = _add_months(self.fiscal_year_start(fiscal_year), 3 * (q - 1))
        return self._span(start, 3, self._fy_label(f"Q{q}", fiscal_year))

    def quarter_of(self, day: dt.date, back: int = 0) -> Period:
        fy = self.fiscal_year_of(day)
        q = (day.month - self.fiscal_start) % 12 // 3 + 1 - back
        fy, q = fy + (q - 1) // 4, (q - 1) % 4 + 1
        return self.quarter(fy, q)

    def year(self, fiscal_year: int) -> Period:
        label = str(fiscal_year) if self.fiscal_start == 1 else f"FY{fiscal_year}"
        return self._span(self.fiscal_year_start(fiscal_year), 12, label)

    def month(self, year: int, month: int) -> Period:
        start = dt.date(year, month, 1)
        return self._span(start, 1, f"{calendar.month_name[month]} {year}")

    def _fy_label(self, part: str, fiscal_year: int) -> str:
        return f"{part} {fiscal_year}" if self.fiscal_start == 1 else f"{part} FY{fiscal_year}"

    @staticmethod
    def _span(start: dt.date, months: int, label: str) -> Period:
        return Period(start=start, end=_add_months(start, months), label=label)

    def named(self, name: str) -> Period | None:
        """this_quarter, last_month, ytd and friends; None when `name` is not one of them."""
        today, tomorrow = self.today, self.today + dt.timedelta(days=1)
        fy = self.fiscal_year_of(today)
        this_month = self.month(today.year, today.month)
        last_month_start = _add_months(this_month.start, -1)
        table = {
            "this_quarter": lambda: self.quarter_of(today),
            "last_quarter": lambda: self.quarter_of(today, back=1),
            "this_month": lambda: this_month,
            "last_month": lambda: self.month(last_month_start.year, last_month_start.month),
            "this_year": lambda: self.year(fy),
            "last_year": lambda: self.year(fy - 1),
            "ytd": lambda: Period(start=self.year(fy).start, end=tomorrow,
                                  label=f"{self.year(fy).label} to date"),
            "qtd": lambda: Period(start=self.quarter_of(today).start, end=tomorrow,
                                  label=f"{self.quarter_of(today).label} to date"),
        }
        maker = table.get(name)
        return maker() if maker else None


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})$"), "range"),
    (re.compile(r"^(?:fy)?(\d{4})-?q([1-4])$"), "year_quarter"),
    (re.compile(r"^q([1-4])[ -]?(?:fy)?(\d{4})$"), "quarter_year"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "year_month"),
    (re.compile(rf"^({_MONTH_WORD})\.? (\d{{4}})$"), "month_word"),
    (re.compile(r"^(?:fy)?(\d{4})$"), "year"),
]


def resolve(spec: str, cal: Calendar) -> Period:
    """A period from its written form; BadRequest names the accepted forms."""
    text = " ".join(spec.strip().lower().replace("_", " ").split())
    named = cal.named(text.replace(" ", "_").replace("year_to_date", "ytd")
                      .replace("quarter_to_date", "qtd"))
    if named:
        return named
    for pattern, kind in _PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return _build(kind, match.groups(), cal)
            except ValueError:
                break
    raise BadRequest(f"'{spec}' is not a period I know; use one of: {PERIOD_HELP}")


def _build(kind: str, g: tuple[str, ...], cal: Calendar) -> Period:
    if kind == "range":
        start = dt.date(int(g[0]), int(g[1]), int(g[2]))
        last = dt.date(int(g[3]), int(g[4]), int(g[5]))
        if last < start:
            raise BadRequest(f"the range ends ({last}) before it starts ({start})")
        return Period(start=start, end=last + dt.timedelta(days=1), label=f"{start} – {last}")
    if kind == "year_quarter":
        return cal.quarter(int(g[0]), int(g[1]))
    if kind == "quarter_year":
        return cal.quarter(int(g[1]), int(g[0]))
    if kind == "year_month":
        return cal.month(int(g[0]), int(g[1]))
    if kind == "month_word":
        return cal.month(int(g[1]), MONTHS[g[0]])
    return cal.year(int(g[0]))


# Phrases in a question, longest first, mapped to the written forms `resolve` takes.
_IN_TEXT = [
    (re.compile(r"\b(\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:fy)?(\d{4})[- ]?(q[1-4])\b"), lambda m: f"{m.group(1)}-{m.group(2)}"),
    (re.compile(r"\b(q[1-4])[ -]?(?:fy)?(\d{4})\b"), lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(rf"\b({_MONTH_WORD})\.? (\d{{4}})\b"), lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(\d{4}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(this|last|previous|current) (quarter|month|year)\b"),
     lambda m: f"{'this' if m.group(1) in ('this', 'current') else 'last'}_{m.group(2)}"),
    (re.compile(r"\b(ytd|qtd|year to date|quarter to date|year-to-date|quarter-to-date)\b"),
     lambda m: m.group(1).replace("-", " ")),
    (re.compile(r"\b(q[1-4])\b"), None),
    (re.compile(r"\b(?:in|for|during) ((?:fy)?\d{4})\b"), lambda m: m.group(1)),
]


def find_in_text(text: str, cal: Calendar) -> tuple[Period | None, str]:
    """The first period a question mentions, and the question with that phrase removed."""
    lowered = text.lower()
    for pattern, spec in _IN_TEXT:
        match = pattern.search(lowered)
        if not match:
            continue
        if spec is None:  # a bare "Q3" means that quarter of the current fiscal year
            written = f"{cal.fiscal_year_of(cal.today)}-{match.group(1)}"
        else:
            written = spec(match)
        period = resolve(written, cal)
        return period, (text[: match.start()] + " " + text[match.end():]).strip()
    return None, text
