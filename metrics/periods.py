"""Periods people ask for, resolved to half-open date ranges against a given "today"."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.answer import Period
from metrics.errors import BadRequest

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
PERIOD_HELP = ("this_quarter, last_quarter, next_quarter, this_month, last_month, this_year, "
               "last_year, this_week, last_week, today, yesterday, ytd, qtd, mtd, last 30 days, "
               "last 6 months, next 90 days, 2026-Q3, Q3 2026, Q3, H1 2026, FY2026, FY26, "
               "2026-05, May 2026, November, 2026, 2026-01-01..2026-03-31, "
               "from Jan 1 to Mar 31, since March")
# The days anyone may name. Periods reach back a year or their own length (last_year, trailing
# windows, the previous period) and forward to the end of a quarter, and Python's dates stop
# at 0001-01-01 and 9999-12-31: inside these bounds that arithmetic always has room.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)
_UNITS = ("day", "week", "month", "quarter", "year")


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


def _months_between(start: dt.date, end: dt.date) -> int | None:
    """Whole months from `start` to `end` when both are first days of a month."""
    if start.day != 1 or end.day != 1:
        return None
    return (end.year * 12 + end.month) - (start.year * 12 + start.month)


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
        """The last `count` days, weeks, months, quarters or years, ending today (included)."""
        end = self.today + dt.timedelta(days=1)
        start = self._back(end, count, unit)
        plural = unit if count == 1 else f"{unit}s"
        return Period(start=check_day(start), end=end, label=f"last {count} {plural}")

    def coming(self, count: int, unit: str) -> Period:
        """The next `count` days, weeks, months, quarters or years, from today (included)."""
        start = self.today
        end = start + (start - self._back(start, count, unit))
        plural = unit if count == 1 else f"{unit}s"
        return Period(start=start, end=check_day(end), label=f"next {count} {plural}")

    @staticmethod
    def _back(end: dt.date, count: int, unit: str) -> dt.date:
        if not 1 <= count <= 1200:
            raise BadRequest(f"'{count} {unit}s' is not a span I can look up; use 1 to 1200")
        if unit in ("day", "week"):
            return end - dt.timedelta(days=count * (7 if unit == "week" else 1))
        return _same_day_months_back(end, count * {"month": 1, "quarter": 3, "year": 12}[unit])

    def recent_month(self, month: int) -> Period:
        """The most recent month of that name that has started (this one included)."""
        year = self.today.year - (month > self.today.month)
        return self.month(year, month)

    def upcoming_month(self, month: int) -> Period:
        """The first month of that name that has not ended (this one included)."""
        return self.month(self.today.year + (month < self.today.month), month)

    def recent_quarter(self, q: int) -> Period:
        """The most recent Qn of the fiscal calendar that has started."""
        fy = self.fiscal_year_of(self.today)
        period = self.quarter(fy, q)
        return period if period.start <= self.today else self.quarter(fy - 1, q)

    def upcoming_quarter(self, q: int) -> Period:
        """The first Qn of the fiscal calendar that has not ended (the current one included)."""
        fy = self.fiscal_year_of(self.today)
        period = self.quarter(fy, q)
        return period if period.end > self.today else self.quarter(fy + 1, q)

    def recent_half(self, h: int) -> Period:
        fy = self.fiscal_year_of(self.today)
        period = self.half(fy, h)
        return period if period.start <= self.today else self.half(fy - 1, h)

    def upcoming_half(self, h: int) -> Period:
        fy = self.fiscal_year_of(self.today)
        period = self.half(fy, h)
        return period if period.end > self.today else self.half(fy + 1, h)

    def name(self, start: dt.date, end: dt.date) -> Period:
        """[start, end) named as people would: a month, quarter, half, year or week when it is
        exactly one, else by its first and last day."""
        months = _months_between(start, end)
        offset = (start.month - self.fiscal_start) % 12
        if months == 1:
            return self.month(start.year, start.month)
        if months in (3, 6, 12) and offset % months == 0:
            fy = self.fiscal_year_of(start)
            return {3: lambda: self.quarter(fy, offset // 3 + 1),
                    6: lambda: self.half(fy, offset // 6 + 1), 12: lambda: self.year(fy)}[months]()
        if (end - start).days == 7 and start.weekday() == 0:
            return self.week_of(start)
        if (end - start).days == 1:
            return Period(start=start, end=end, label=f"{start:%b} {start.day}, {start.year}")
        return Period(start=start, end=end, label=f"{start} – {end - dt.timedelta(days=1)}")

    def before(self, period: Period) -> Period:
        """The period just before: the same calendar grain for a month, quarter, half or year
        (Q2's is Q1, whatever their days), else the same number of days."""
        if period.months:
            return self.name(add_months(period.start, -period.months), period.start)
        return self.name(period.start - (period.end - period.start), period.start)

    def year_before(self, period: Period) -> Period:
        """The same part of the year, a year earlier (Feb 29 becomes Feb 28)."""
        return self.name(_same_day_months_back(period.start, 12),
                         _same_day_months_back(period.end, 12))

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
            "mtd": lambda: Period(start=this_month.start, end=tomorrow,
                                  label=f"{this_month.label} to date"),
        }
        maker = table.get(name)
        return maker() if maker else None


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1}
_COUNT = rf"(\d{{1,4}}|{'|'.join(_NUMBER_WORDS)})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})$"), "range"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
    (re.compile(r"^(?:fy)?(\d{4})-?q([1-4])$"), "year_quarter"),
    (re.compile(r"^q([1-4])[ -]?(?:fy)?(\d{4})$"), "quarter_year"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "year_month"),
    (re.compile(rf"^({_MONTH_WORD})\.? (\d{{4}})$"), "month_word"),
    (re.compile(r"^(?:fy|fiscal year |fiscal )?(\d{4})$"), "year"),
    (re.compile(r"^fy(\d{2})$"), "fy_short"),
    (re.compile(r"^h([12])[ -]?(?:fy)?(\d{4})$"), "half_year"),
    (re.compile(r"^(?:fy)?(\d{4})[ -]?h([12])$"), "year_half"),
    (re.compile(rf"^({_MONTH_WORD})$"), "month_alone"),
    (re.compile(r"^q([1-4])$"), "quarter_alone"),
    (re.compile(r"^h([12])$"), "half_alone"),
    (re.compile(rf"^last {_COUNT} (day|week|month|quarter|year)s?$"), "trailing"),
    (re.compile(rf"^next {_COUNT} (day|week|month|quarter|year)s?$"), "coming"),
]


def resolve(spec: str, cal: Calendar, forward: bool = False) -> Period:
    """A period from its written form; BadRequest names the accepted forms.

    `forward`: a month, quarter or half named alone is the next one not yet ended (a metric
    about what is still to come, such as open pipeline) instead of the last one started.
    """
    text = " ".join(spec.strip().lower().replace("_", " ").replace(",", " ").split())
    named = cal.named(text.replace(" ", "_").replace("year_to_date", "ytd")
                      .replace("quarter_to_date", "qtd").replace("month_to_date", "mtd"))
    if named:
        return named
    ranged = _whole_range(text, cal)
    if ranged is not None:
        return ranged
    for pattern, kind in _PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return _within(_build(kind, match.groups(), cal, spec, forward), spec)
            except ValueError:  # a month 13 or a February 30th
                break
    raise BadRequest(f"'{spec}' is not a period I know; use one of: {PERIOD_HELP}")


def _build(kind: str, g: tuple[str, ...], cal: Calendar, spec: str, forward: bool) -> Period:
    if kind == "month_alone":
        return (cal.upcoming_month if forward else cal.recent_month)(MONTHS[g[0]])
    if kind == "quarter_alone":
        return (cal.upcoming_quarter if forward else cal.recent_quarter)(int(g[0]))
    if kind == "half_alone":
        return (cal.upcoming_half if forward else cal.recent_half)(int(g[0]))
    if kind in ("trailing", "coming"):
        count = _NUMBER_WORDS.get(g[0]) or int(g[0])
        return (cal.trailing if kind == "trailing" else cal.coming)(count, g[1])
    if kind == "fy_short":
        g = (str(2000 + int(g[0])),)
    if kind == "half_year":
        g = (g[1], g[0])
    if kind == "day":
        day = check_day(dt.date(int(g[0]), int(g[1]), int(g[2])))
        return cal.name(day, day + dt.timedelta(days=1))
    if kind == "range":
        start = check_day(dt.date(int(g[0]), int(g[1]), int(g[2])))
        last = check_day(dt.date(int(g[3]), int(g[4]), int(g[5])))
        return _range_between(start, last + dt.timedelta(days=1))
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


def _range_between(start: dt.date, end: dt.date) -> Period:
    """A custom range [start, end), labelled by its first and last day."""
    last = end - dt.timedelta(days=1)
    if last < start:
        raise BadRequest(f"the range ends ({last}) before it starts ({start})")
    return Period(start=start, end=end, label=f"{start} – {last}")


# --- ranges: "from Jan 1 to Mar 31", "between March and May", "since June" ---------------
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY = (rf"\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTH_WORD})\.? \d{{1,2}}{_ORDINAL}(?: \d{{4}})?(?!\d)"
        rf"|\d{{1,2}}{_ORDINAL} (?:of )?(?:{_MONTH_WORD})\b\.?(?: \d{{4}})?")
_SIDE = (rf"{_DAY}|(?:{_MONTH_WORD})\b(?: \d{{4}})?|q[1-4](?: (?:fy)?\d{{4}})?"
         r"|(?:fy)?\d{4}-q[1-4]|\d{4}-\d{2}|(?:fy)?\d{4}|today|now|date|yesterday")
_TO = r"(?:to|through|thru|until|till|and|-|–)"
RANGES: list[tuple[re.Pattern[str], bool]] = [  # (pattern, runs to today)
    (re.compile(rf"\b(?:from|between) (?:the )?({_SIDE}) (?:up )?{_TO} (?:the )?({_SIDE})\b"),
     False),
    (re.compile(rf"\b({_DAY}) (?:to|through|thru|until|till|-|–) ({_DAY}|today|now|date)\b"),
     False),
    (re.compile(rf"\b((?:{_MONTH_WORD})(?: \d{{4}})?) (?:through|thru|to|-|–) "
                rf"((?:{_MONTH_WORD})(?: \d{{4}})?)\b"), False),
    (re.compile(r"\b((?:q[1-4]|h[12])(?: (?:fy)?\d{4})?) (?:through|thru|to|-|–) "
                r"((?:q[1-4]|h[12])(?: (?:fy)?\d{4})?)\b"), False),
    (re.compile(rf"\bsince (?:the )?({_SIDE})\b"), True),
]
_SIDE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "iso"),
    (re.compile(rf"^({_MONTH_WORD})\.? (\d{{1,2}}){_ORDINAL}(?: (\d{{4}}))?$"), "month_day"),
    (re.compile(rf"^(\d{{1,2}}){_ORDINAL} (?:of )?({_MONTH_WORD})\.?(?: (\d{{4}}))?$"),
     "day_month"),
    (re.compile(rf"^({_MONTH_WORD})(?: (\d{{4}}))?$"), "month"),
    (re.compile(r"^q([1-4])(?: (?:fy)?(\d{4}))?$"), "quarter"),
]
# A side: the period it names, given the year to put it in when it was written without one.
_Side = tuple[Callable[[int], Period], bool]


def _side(text: str, cal: Calendar) -> _Side:
    if text in ("today", "now", "date"):
        return (lambda _: cal.named("today")), True
    for pattern, kind in _SIDE_FORMS:
        match = pattern.match(text)
        if match:
            return _side_of(kind, match.groups(), cal)
    return (lambda _: resolve(text, cal)), True


def _side_of(kind: str, g: tuple[str | None, ...], cal: Calendar) -> _Side:
    if kind == "iso":
        day = check_day(dt.date(int(g[0]), int(g[1]), int(g[2])))
        return (lambda _: cal.name(day, day + dt.timedelta(days=1))), True
    if kind in ("month_day", "day_month"):
        month, day, year = ((g[0], g[1], g[2]) if kind == "month_day" else (g[1], g[0], g[2]))

        def on(y: int) -> Period:
            first = check_day(dt.date(y, MONTHS[month], int(day)))
            return cal.name(first, first + dt.timedelta(days=1))
        return _fixed(on, year)
    if kind == "month":
        return _fixed(lambda y: cal.month(y, MONTHS[g[0]]), g[1])
    return _fixed(lambda y: cal.quarter(y, int(g[0])), g[1])


def _fixed(make: Callable[[int], Period], year: str | None) -> _Side:
    if year is None:
        return make, False
    return (lambda _: make(int(year))), True


def _range_of(first: str, last: str | None, cal: Calendar) -> Period:
    """[first's start, last's end); a side without a year is the one that fits: the start the
    most recent that has begun (or that ends before a dated last side), the end the first after
    the start."""
    make_start, start_dated = _side(first, cal)
    end_side = _side(last, cal) if last is not None else ((lambda _: cal.named("today")), True)
    make_end, end_dated = end_side
    if start_dated:
        start = make_start(0)
    else:
        anchor = make_end(0).start if end_dated else cal.today
        start = make_start(anchor.year)
        if start.start > anchor:
            start = make_start(anchor.year - 1)
    end = make_end(start.start.year)
    if not end_dated and end.end <= start.start:
        end = make_end(start.start.year + 1)
    if last is None and start.start > cal.today:
        raise BadRequest(f"'since {first}' starts after today ({cal.today})")
    return _range_between(start.start, end.end)


def find_range(text: str, cal: Calendar) -> tuple[Period, tuple[int, int]] | None:
    """The first range a text writes out, and where it stands in the text."""
    for pattern, to_today in RANGES:
        match = pattern.search(text)
        if match:
            try:
                period = _range_of(match.group(1), None if to_today else match.group(2), cal)
            except ValueError:  # "Feb 30"
                raise BadRequest(f"'{match.group(0)}' names a day that does not exist") from None
            return period, match.span()
    return None


# One day: "on jan 5", "2026-01-05" (a range's ends are read with the range first).
_DAYS = [re.compile(rf"\bon (?:the )?({_DAY})\b"),
         re.compile(r"(?<![\d.])(\d{4}-\d{2}-\d{2})(?![\d.])")]


def range_spans(text: str, bare: bool = True) -> list[tuple[int, int]]:
    """Where a text writes out ranges, so their "to" and "and" are read as part of them;
    without `bare`, only ranges that say so ("from ... to", "between ... and", "since")."""
    return [m.span() for pattern, _ in RANGES for m in pattern.finditer(text)
            if bare or m.group(0).startswith(("from", "between", "since"))]


def _whole_range(text: str, cal: Calendar) -> Period | None:
    found = find_range(text, cal)
    if found is None or found[1] != (0, len(text)):
        return None
    return found[0]


_RELATIVE = {"this": "this", "current": "this", "last": "last", "previous": "last",
             "prior": "last", "next": "next", "coming": "next", "upcoming": "next"}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4}
_SAFE_MONTH_WORD = "|".join(sorted((m for m in MONTHS if len(m) > 3 and m not in
                                    ("march", "june", "july", "sept")), key=len, reverse=True))


def _nth(m: re.Match, part: str) -> str:
    year = f" {m.group(2)}" if m.group(2) else ""
    return f"{part}{_ORDINALS[m.group(1)]}{year}"


# Phrases in a question, longest first, mapped to the written forms `resolve` takes.
_IN_TEXT = [
    (re.compile(r"\b(\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:fy)?(\d{4})[- ]?(q[1-4])\b"), lambda m: f"{m.group(1)}-{m.group(2)}"),
    (re.compile(r"\b(q[1-4])[ -]?(?:of )?(?:fy ?)?(\d{4})\b"),
     lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th) (?:fiscal )?quarter"
                r"(?: of (?:fy ?)?(\d{4}))?\b"), lambda m: _nth(m, "q")),
    (re.compile(r"\b(first|1st|second|2nd) half(?: of (?:fy ?)?(\d{4}))?\b"),
     lambda m: _nth(m, "h")),
    (re.compile(rf"\b({_MONTH_WORD})\.? (?:of )?(\d{{4}})\b"),
     lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(\d{4}-\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:fy)?(\d{4})[ -]?(h[12])\b"), lambda m: f"{m.group(1)}-{m.group(2)}"),
    (re.compile(r"\b(h[12])[ -]?(?:of )?(?:fy ?)?(\d{4})\b"),
     lambda m: f"{m.group(1)} {m.group(2)}"),
    (re.compile(r"\bsame (quarter|month) (?:as )?(?:last year|a year ago)\b"),
     lambda m: f"same_{m.group(1)}_last_year"),
    (re.compile(r"\b(ttm|ltm|trailing twelve months|trailing 12 months|last twelve months)\b"),
     lambda m: "last 12 months"),
    (re.compile(rf"\b(?:the )?(?:last|past|previous|prior|trailing) {_COUNT} "
                r"(day|week|month|quarter|year)s?\b"),
     lambda m: f"last {m.group(1)} {m.group(2)}"),
    (re.compile(rf"\b(?:the )?(?:next|coming|upcoming) {_COUNT} (day|week|month|quarter|year)s?\b"),
     lambda m: f"next {m.group(1)} {m.group(2)}"),
    (re.compile(r"\b(?:the )?past (day|week|month|quarter|year)\b"),
     lambda m: f"last 1 {m.group(1)}"),
    (re.compile(r"\b(?:for|in|during|over) the (quarter|month|year|week)\b"),
     lambda m: f"this_{m.group(1)}"),
    (re.compile(r"\b(this|last|previous|prior|current|next|coming|upcoming) (?:fiscal )?"
                r"(quarter|month|year|week)\b"),
     lambda m: f"{_RELATIVE[m.group(1)]}_{m.group(2)}"),
    (re.compile(r"\b(ytd|qtd|mtd|(?:year|quarter|month)[ -]to[ -]date)\b"),
     lambda m: m.group(1).replace("-", " ")),
    # "Today" alone stays a cue for the current number ("our coverage today"), not a day.
    (re.compile(r"\b(yesterday)\b"), lambda m: m.group(1)),
    (re.compile(r"\b(fy\d{2})\b"), lambda m: m.group(1)),
    (re.compile(r"\bfiscal (?:year )?(\d{4})\b"), lambda m: m.group(1)),
    (re.compile(r"\b(q[1-4])\b"), lambda m: m.group(1)),
    (re.compile(r"\b(h[12])\b"), lambda m: m.group(1)),
    (re.compile(r"\b(?:in|for|during|fy) ?(?:fy ?)?(\d{4})\b"), lambda m: m.group(1)),
    (re.compile(r"\b((?:19|20)\d{2})\b(?![-.]\d)"), lambda m: m.group(1)),
    # A month's name alone is the most recent one that has started ("SQLs in November").
    # "may" and "march" are also everyday words: only after in/for/during/of.
    (re.compile(rf"\b(?:in|for|during|of) ({_MONTH_WORD})\b"), lambda m: m.group(1)),
    (re.compile(rf"\b({_SAFE_MONTH_WORD})\b"), lambda m: m.group(1)),
]


def find_in_text(text: str, cal: Calendar, forward: bool = False) -> tuple[Period | None, str]:
    """The first period a question mentions, and the question with that phrase removed."""
    found = find_period(text, cal, forward)
    if found is None:
        return None, text
    period, (start, end) = found
    return period, (text[:start] + " " + text[end:]).strip()


def find_period(text: str, cal: Calendar,
                forward: bool = False) -> tuple[Period, tuple[int, int]] | None:
    """The period a question names first (a written-out range before anything else), and the
    span of the words that name it."""
    lowered = text.lower()
    ranged = find_range(lowered, cal)
    if ranged is not None:
        return ranged
    for pattern in _DAYS:
        match = pattern.search(lowered)
        if match:
            try:
                period = _range_of(match.group(1), match.group(1), cal)
            except ValueError:  # "Feb 30"
                raise BadRequest(f"'{match.group(1)}' is not a day") from None
            return cal.name(period.start, period.end), match.span()
    for pattern, spec in _IN_TEXT:
        match = pattern.search(lowered)
        if match:
            return resolve(spec(match), cal, forward), match.span()
    return None
