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
PERIOD_HELP = ("this_quarter, last_quarter, next_quarter, this_month, last_month, this_year, "
               "last_year, this_week, last_week, today, yesterday, ytd, qtd, last 30 days, "
               "last 6 months, 2026-Q3, Q3 2026, Q3, H1 2026, FY2026, FY26, 2026-05, May 2026, "
               "November, 2026, 2026-01-01..2026-03-31")
# The days anyone may name. Periods reach back a year or their own length (last_year, trailing
# windows, the previous period) and forward to the end of a quarter, and Python's dates stop
# at 0001-01-01 and 9999-12-31: inside these bounds that arithmetic always has room.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


def too_late(written: str) -> str:
    """The message for a day, year or period past LATEST."""
    return f"'{written}' is too far in the future to look up; use dates up to {LATEST}"


def too_early(written: str) -> str:
    """The message for a day, year or period before EARLIEST."""
    return f"'{written}' is too far in the past to look up; use dates from {EARLIEST}"


def check_day(day: dt.date, written: str | None = None) -> dt.date:
    """`day` when it lies within EARLIEST..LATEST; BadRequest says which way it is out."""
    if day > LATEST:
        raise BadRequest(too_late(written or day.isoformat()))
    if day < EARLIEST:
        raise BadRequest(too_early(written or day.isoformat()))
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _same_day_months_back(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` earlier (the month's last day if it is shorter)."""
    first = add_months(day.replace(day=1), -months)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


@dataclass(frozen=True)
class Calendar:
    """Today and the fiscal year's first month; fiscal years are named by the year they end."""

    today: dt.date
    fiscal_start: int = 1

    def __post_init__(self) -> None:
        check_day(self.today)  # every named period is arithmetic on today

    def fiscal_year_start(self, fiscal_year: int) -> dt.date:
        return dt.date(fiscal_year - (self.fiscal_start != 1), self.fiscal_start, 1)

    def fiscal_year_of(self, day: dt.date) -> int:
        return day.year + (self.fiscal_start != 1 and day.month >= self.fiscal_start)

    def quarter(self, fiscal_year: int, q: int) -> Period:
        start = add_months(self.fiscal_year_start(fiscal_year), 3 * (q - 1))
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

    def half(self, fiscal_year: int, h: int) -> Period:
        start = add_months(self.fiscal_year_start(fiscal_year), 6 * (h - 1))
        return self._span(start, 6, self._fy_label(f"H{h}", fiscal_year))

    def week_of(self, day: dt.date, back: int = 0) -> Period:
        """The Monday-to-Sunday week containing `day`, `back` weeks earlier (-1: the next)."""
        start = day - dt.timedelta(days=day.weekday() + 7 * back)
        end = start + dt.timedelta(days=7)
        return Period(start=start, end=end, label=f"week of {start:%b} {start.day}, {start.year}")

    def day(self, day: dt.date, name: str) -> Period:
        return Period(start=day, end=day + dt.timedelta(days=1), label=f"{name} ({day})")

    def trailing(self, count: int, unit: str) -> Period:
        """The last `count` days, weeks, months or quarters, ending today (today included)."""
        if not 1 <= count <= 1200:
            raise BadRequest(f"'last {count} {unit}s' is not a span I can look up; "
                             "use 1 to 1200")
        end = self.today + dt.timedelta(days=1)
        if unit in ("day", "week"):
            start = end - dt.timedelta(days=count * (7 if unit == "week" else 1))
        else:
            months = count * (3 if unit == "quarter" else 1)
            start = _same_day_months_back(end, months)
        plural = unit if count == 1 else f"{unit}s"
        return Period(start=check_day(start), end=end, label=f"last {count} {plural}")

    def recent_month(self, month: int) -> Period:
        """The most recent month of that name that has started (this one included)."""
        year = self.today.year - (month > self.today.month)
        return self.month(year, month)

    def recent_quarter(self, q: int) -> Period:
        """The most recent Qn of the fiscal calendar that has started."""
        fy = self.fiscal_year_of(self.today)
        period = self.quarter(fy, q)
        return period if period.start <= self.today else self.quarter(fy - 1, q)

    def _fy_label(self, part: str, fiscal_year: int) -> str:
        return f"{part} {fiscal_year}" if self.fiscal_start == 1 else f"{part} FY{fiscal_year}"

    @staticmethod
    def _span(start: dt.date, months: int, label: str) -> Period:
        return Period(start=start, end=add_months(start, months), label=label, months=months)

    def named(self, name: str) -> Period | None:
        """this_quarter, last_month, ytd and friends; None when `name` is not one of them."""
        today, tomorrow = self.today, self.today + dt.timedelta(days=1)
        fy = self.fiscal_year_of(today)
        this_month = self.month(today.year, today.month)
        last_month_start = add_months(this_month.start, -1)
        table = {
            "this_quarter": lambda: self.quarter_of(today),
            "last_quarter": lambda: self.quarter_of(today, back=1),
            "this_month": lambda: this_month,
            "last_month": lambda: self.month(last_month_start.year, last_month_start.month),
            "this_year": lambda: self.year(fy),
            "last_year": lambda: self.year(fy - 1),
            "next_quarter": lambda: self.quarter_of(today, back=-1),
            "next_month": lambda: self.month(add_months(this_month.start, 1).year,
                                             add_months(this_month.start, 1).month),
            "next_year": lambda: self.year(fy + 1),
            "this_week": lambda: self.week_of(today),
            "last_week": lambda: self.week_of(today, back=1),
            "next_week": lambda: self.week_of(today, back=-1),
            "today": lambda: self.day(today, "today"),
            "yesterday": lambda: self.day(today - dt.timedelta(days=1), "yesterday"),
            "same_quarter_last_year": lambda: self.quarter_of(today, back=4),
            "same_month_last_year": lambda: self.month(today.year - 1, today.month),
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
    (re.compile(r"^fy(\d{2})$"), "fy_short"),
    (re.compile(r"^h([12])[ -]?(?:fy)?(\d{4})$"), "half_year"),
    (re.compile(r"^(?:fy)?(\d{4})[ -]?h([12])$"), "year_half"),
    (re.compile(rf"^({_MONTH_WORD})$"), "month_alone"),
    (re.compile(r"^q([1-4])$"), "quarter_alone"),
    (re.compile(r"^last (\d{1,4}) (day|week|month|quarter)s?$"), "trailing"),
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
                return _within(_build(kind, match.groups(), cal, spec), spec)
            except ValueError:  # a month 13 or a February 30th
                break
    raise BadRequest(f"'{spec}' is not a period I know; use one of: {PERIOD_HELP}")


def _build(kind: str, g: tuple[str, ...], cal: Calendar, spec: str) -> Period:
    if kind == "month_alone":
        return cal.recent_month(MONTHS[g[0]])
    if kind == "quarter_alone":
        return cal.recent_quarter(int(g[0]))
    if kind == "trailing":
        return cal.trailing(int(g[0]), g[1])
    if kind == "fy_short":
        g = (str(2000 + int(g[0])),)
    if kind == "half_year":
        g = (g[1], g[0])
    if kind == "range":
        start = check_day(dt.date(int(g[0]), int(g[1]), int(g[2])))
        last = check_day(dt.date(int(g[3]), int(g[4]), int(g[5])))
        if last < start:
            raise BadRequest(f"the range ends ({last}) before it starts ({start})")
        return Period(start=start, end=last + dt.timedelta(days=1), label=f"{start} – {last}")
    year = int(g[1] if kind in ("quarter_year", "month_word") else g[0])
    if year > LATEST.year:  # checked before any date is built: year 10000 has none
        raise BadRequest(too_late(spec))
    if year < EARLIEST.year:
        raise BadRequest(too_early(spec))
    if kind == "year_quarter":
        return cal.quarter(int(g[0]), int(g[1]))
    if kind == "quarter_year":
        return cal.quarter(int(g[1]), int(g[0]))
    if kind == "year_month":
        return cal.month(int(g[0]), int(g[1]))
    if kind == "month_word":
        return cal.month(int(g[1]), MONTHS[g[0]])
    if kind in ("half_year", "year_half"):
        return cal.half(int(g[0]), int(g[1]))
    return cal.year(int(g[0]))


def _within(period: Period, spec: str) -> Period:
    """A fiscal year named for its end starts the calendar year before: FY1900 is too early."""
    if period.start < EARLIEST:
        raise BadRequest(too_early(spec))
    if period.end > LATEST + dt.timedelta(days=1):
        raise BadRequest(too_late(spec))
    return period


_RELATIVE = {"this": "this", "current": "this", "last": "last", "previous": "last",
             "next": "next"}
_SAFE_MONTH_WORD = "|".join(sorted((m for m in MONTHS if len(m) > 3 and m not in
                                    ("march", "june", "july")), key=len, reverse=True))
# Phrases in a question, longest first, mapped to the written forms `resolve` takes.
_IN_TEXT = [
    (re.compile(r"\b(\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:fy)?(\d{4})[- ]?(q[1-4])\b"), lambda m: f"{m.group(1)}-{m.group(2)}"),
    (re.compile(r"\b(q[1-4])[ -]?(?:fy)?(\d{4})\b"), lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(rf"\b({_MONTH_WORD})\.? (\d{{4}})\b"), lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(\d{4}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:fy)?(\d{4})[ -]?(h[12])\b"), lambda m: f"{m.group(1)}-{m.group(2)}"),
    (re.compile(r"\b(h[12])[ -]?(?:fy)?(\d{4})\b"), lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\bsame (quarter|month) (?:as )?last year\b"),
     lambda m: f"same_{m.group(1)}_last_year"),
    (re.compile(r"\b(?:the )?(?:last|past|previous|trailing) (\d{1,4}) "
                r"(day|week|month|quarter)s?\b"),
     lambda m: f"last {m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(this|last|previous|current|next) (quarter|month|year|week)\b"),
     lambda m: f"{_RELATIVE[m.group(1)]}_{m.group(2)}"),
    (re.compile(r"\b(ytd|qtd|year to date|quarter to date|year-to-date|quarter-to-date)\b"),
     lambda m: m.group(1).replace("-", " ")),
    # "Today" alone stays a cue for the current number ("our coverage today"), not a day.
    (re.compile(r"\b(yesterday)\b"), lambda m: m.group(1)),
    (re.compile(r"\b(fy\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(q[1-4])\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:in|for|during) ((?:fy)?\d{4})\b"), lambda m: m.group(1)),
    # A month's name alone is the most recent one that has started ("SQLs in November").
    # "may" and "march" are also everyday words: only after in/for/during/since/of.
    (re.compile(rf"\b(?:in|for|during|since|of) ({_MONTH_WORD})\b"), lambda m: m.group(1)),
    (re.compile(rf"\b({_SAFE_MONTH_WORD})\b"), lambda m: m.group(1)),
]


def find_in_text(text: str, cal: Calendar) -> tuple[Period | None, str]:
    """The first period a question mentions, and the question with that phrase removed."""
    lowered = text.lower()
    for pattern, spec in _IN_TEXT:
        match = pattern.search(lowered)
        if not match:
            continue
        period = resolve(spec(match), cal)
        return period, (text[: match.start()] + " " + text[match.end():]).strip()
    return None, text
