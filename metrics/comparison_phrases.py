"""Comparisons as people ask for them: "vs last quarter", "compare this year to last year",
"how does it compare with the month before", "year over year".

A comparison is read in two steps: `find_comparison` takes its words out of the question and
notes what was asked; `Asked.periods` turns that into the asked and the compared period once
the question's own period (if any) is known.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.answer import Period
from metrics.periods import MONTHS, Calendar, find_period, range_spans, resolve

_UNIT = r"(day|week|month|quarter|half|year|period|one)"
# Words that ask for a comparison with whatever period follows them.
_AGAINST = (r"\b(?:vs|versus|compared (?:to|with|against)|compare(?:s|d)? (?:it |that )?"
            r"(?:to|with|against)|in comparison (?:to|with)|comparison (?:to|with)|against|"
            r"relative to|than)\b(?: (?:the|that|those|what|we|had|of|in|for|during)\b)*")
_AGAINST_RE = re.compile(_AGAINST)
_IN_COMPARE = re.compile(r"\b(?:to|with|and)\b(?: (?:the|that|of|in|for|during)\b)*")
# "the month before", "the previous quarter", "a year ago", right after a comparison word.
_RELATIVE = re.compile(
    rf"^(?:(?:previous|prior|preceding|last) {_UNIT}|{_UNIT} (?:before|prior|earlier)"
    r"|(?:same (?:period|time|quarter|month|week|day|half) (?:as )?)?"
    r"(?:(?:a |one )?year (?:ago|earlier|before)|(?:last|the previous|the prior) year))\b")
# Comparisons that name their own grain anywhere in the question.
_OVER = re.compile(r"\b(year over year|yoy|y/y|quarter over quarter|qoq|q/q|month over month|"
                   r"mom|m/m|week over week|wow|w/w)\b")
_OVER_UNIT = {"y": "year_ago", "q": "quarter", "m": "month", "w": "week"}
_MONTH = re.compile(rf"^({'|'.join(sorted(MONTHS, key=len, reverse=True))})\b")
COMPARE_WORDS = re.compile(r"\b(compar\w*|vs|versus)\b")


@dataclass(frozen=True)
class Asked:
    """A comparison read from a question: with a period it names, or one relative to the
    asked period ("before" the same grain, "year_ago")."""

    other: Period | None = None
    relative: str | None = None  # "before" | "year_ago"
    unit: str | None = None  # the grain a relative comparison names ("month")

    def periods(self, asked: Period | None, cal: Calendar,
                default: Period) -> tuple[Period, Period]:
        """(asked period, compared period). Without an asked period, "vs last month" compares
        this month, "vs last year" this year, and a relative comparison the metric's default."""
        if self.other is not None:
            return asked or _current_like(self.other, cal) or default, self.other
        if asked is None:
            asked = _current(self.unit, cal) if self.unit else default
        if self.relative == "year_ago":
            return asked, cal.year_before(asked)
        return asked, _before(asked, self.unit, cal)


def find_comparison(text: str, cal: Calendar, forward: bool = False) -> tuple[Asked | None, str]:
    """The comparison a question asks for, and the question without its words."""
    over = _OVER.search(text)
    if over:
        kind = _OVER_UNIT[over.group(1)[0]]
        asked = Asked(relative="year_ago") if kind == "year_ago" else Asked(relative="before",
                                                                            unit=kind)
        return asked, _cut(text, over.span())
    comparing = bool(COMPARE_WORDS.search(text))
    ranges = range_spans(text, bare=not comparing)  # "compare Q1 to Q2" is no range
    for pattern in (_AGAINST_RE, *((_IN_COMPARE,) if comparing else ())):
        for keyword in pattern.finditer(text):
            if any(start <= keyword.start() < end for start, end in ranges):
                continue
            found = _after(text, keyword.end(), cal, forward)
            if found is not None:
                asked, end = found
                return asked, _cut(text, (keyword.start(), end))
    return None, text


def _after(text: str, at: int, cal: Calendar, forward: bool) -> tuple[Asked, int] | None:
    """What a comparison word at `at` compares with, and where its words end."""
    tail = text[at:]
    stripped = tail.lstrip()
    offset = at + len(tail) - len(stripped)
    relative = _RELATIVE.match(stripped)
    if relative:
        return _relative(relative), offset + relative.end()
    found = find_period(stripped, cal, forward)
    if found is not None and found[1][0] == 0:
        return Asked(other=found[0]), offset + found[1][1]
    month = _MONTH.match(stripped)  # "may" or "march" alone, read as a month after "vs"
    if month:
        return Asked(other=resolve(month.group(1), cal, forward)), offset + month.end()
    return None


def _relative(match: re.Match) -> Asked:
    words = match.group(0)
    if words.startswith("same") or re.search(r"year (ago|earlier)", words):
        return Asked(relative="year_ago")  # the same part of the year, a year earlier
    unit = next((u for u in match.groups() if u), None)
    return Asked(relative="before", unit=None if unit in (None, "period", "one") else unit)


def _cut(text: str, span: tuple[int, int]) -> str:
    return f"{text[:span[0]]} ¦ {text[span[1]:]}"


def _current(unit: str, cal: Calendar) -> Period:
    """This day, week, month, quarter, half or year."""
    today = cal.today
    if unit == "half":
        return cal.half(cal.fiscal_year_of(today), 1 + (cal.quarter_of(today).start.month
                                                        - cal.fiscal_start) % 12 // 6)
    if unit == "day":
        return cal.named("today")
    return cal.named(f"this_{unit}")


def _current_like(other: Period, cal: Calendar) -> Period | None:
    """The period of the same kind that holds today: "vs last month" compares this month."""
    span = (other.end - other.start).days
    unit = {12: "year", 6: "half", 3: "quarter", 1: "month"}.get(other.months or 0)
    if unit is None and span == 7 and other.start.weekday() == 0:
        unit = "week"
    if unit is None and span == 1:
        unit = "day"
    return _current(unit, cal) if unit else None


def _before(asked: Period, unit: str | None, cal: Calendar) -> Period:
    """The `unit` before the asked period: the period of its own grain just before it when no
    unit is named or it is its own ("Q2 vs the quarter before": Q1); "last year" for a part of
    a year is the same part a year earlier; else the unit before the one the period starts in."""
    own = {12: "year", 6: "half", 3: "quarter", 1: "month"}.get(asked.months or 0)
    if unit is None or unit == own:
        return cal.before(asked)
    start = asked.start
    if unit == "year":
        return cal.year_before(asked)
    if unit == "week":
        return cal.week_of(start, back=1)
    if unit == "day":
        return cal.day(start - dt.timedelta(days=1), "the day before")
    if unit == "month":
        return cal.before(cal.month(start.year, start.month))
    if unit == "quarter":
        return cal.quarter_of(start, back=1)
    return cal.before(cal.half(cal.fiscal_year_of(start),
                               1 + (start.month - cal.fiscal_start) % 12 // 6))
