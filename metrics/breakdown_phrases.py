"""Breakdowns as people ask for them: "by segment", "per month", "monthly", "each region",
"by month and region", and "trend" (by month over the trailing twelve months)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from metrics.question_words import stem

GRAINS = ("day", "week", "month", "quarter", "year")
_ADJECTIVES = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
               "yearly": "year", "annually": "year", "annual": "year"}
_LEAD = (r"(?:(?:broken|break|breaking|split|grouped|group|bucketed) (?:it |them |that )?"
         r"(?:down |out |up )?(?:by|per|into)|by|per|for each|for every|each|every|across|in each"
         r"|breakdown by|breakdown per)")
_BY = re.compile(rf"\b{_LEAD} (?:the |all |every |each )?(\w+)((?:(?: and| ,| then)? "
                 rf"(?:by |per )?(?:the )?\w+)*)")
_SAME_TWICE = re.compile(r"\b(day|week|month|quarter|year) (?:by|over|after|to) \1\b")
# "quarterly target" is the target of the quarter, not a breakdown by quarter.
_ADJECTIVE = re.compile(rf"\b({'|'.join(_ADJECTIVES)})\b(?! (?:¦ |\w+ )?(?:target|goal|quota|"
                        r"plan|number|recurring|run rate|contract|value)\b)")
_NOT_A_BREAKDOWN = frozenset("the a an all every each our their its this that which what how end "
                             "now then way far default hand date close count amount number value "
                             "volume itself contrast comparison".split())
_TREND = re.compile(r"\b(trends?|trendline|trend line|over time|historically|history|"
                    r"how has .* (?:changed|moved|evolved))\b")


@dataclass(frozen=True)
class Breakdown:
    """What a question asks to break the number down by, and what it named that cannot be."""

    by: tuple[str, ...] = ()
    trend: bool = False
    refused: tuple[str, ...] = ()  # dimensions this metric cannot be broken down by


def find_breakdown(text: str, allowed: Collection[str],
                   known: Mapping[str, str]) -> tuple[Breakdown, str]:
    """The breakdown `text` asks for; `allowed` are the metric's dimensions, `known` maps every
    name of every dimension ("rep" for owner) to it, so "by segment" of a metric without one
    is refused, not dropped."""
    by: list[str] = []
    refused: list[str] = []
    for said in sorted((n for n in known if " " in n), key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(said)}s?\b", known[said].replace(" ", "_"), text)
    names = {*allowed, *known.values(), *GRAINS}
    aliases = {n: d for n, d in known.items() if " " not in n}

    def take(word: str) -> bool:
        name = _name(word, names) or aliases.get(word) or aliases.get(stem(word))
        if name is None:
            return False
        if name in allowed or name in GRAINS:
            by.append(name) if name not in by else None
        else:
            refused.append(name)
        return True

    cuts: list[tuple[int, int]] = []
    for match in _SAME_TWICE.finditer(text):
        take(match.group(1))
        cuts.append(match.span())
    for match in _BY.finditer(text):
        if any(a <= match.start() < b for a, b in cuts):
            continue
        if not take(match.group(1)):
            if _asks_for_a_breakdown(match):
                refused.append(match.group(1))
                cuts.append(match.span(1))
            continue
        end = match.end(1)
        for part in re.finditer(r"(?: and| ,| then)? (?:by |per )?(?:the )?(\w+)", match.group(2)):
            if not take(part.group(1)):
                break
            end = match.start(2) + part.end()
        cuts.append((match.start(), end))
    for match in _ADJECTIVE.finditer(text):
        take(_ADJECTIVES[match.group(1)])
        cuts.append(match.span())
    for span in sorted(cuts, reverse=True):
        text = _cut(text, span)
    trend = _TREND.search(text)
    if trend:
        text = _cut(text, trend.span())
    grains = [d for d in by if d in GRAINS]
    if len(grains) > 1:
        refused.append(" and ".join(grains))
    ordered = tuple(sorted(by, key=lambda d: d not in GRAINS))  # the time grain first
    return Breakdown(by=ordered, trend=bool(trend), refused=tuple(refused)), text


def _asks_for_a_breakdown(match: re.Match) -> bool:
    """"by rep" or "per deal" ask for something this metric does not have; "by the end of"
    and "each of" do not."""
    lead, word = match.group(0).split()[0], match.group(1)
    if lead == "per":
        return word not in _NOT_A_BREAKDOWN
    return lead in ("by", "broken", "break", "breaking", "split", "grouped", "group",
                    "breakdown") and word not in _NOT_A_BREAKDOWN


def _name(word: str, names: Collection[str]) -> str | None:
    for candidate in (word, stem(word), word.removesuffix("ly")):
        if candidate in names:
            return candidate
    return None


def _cut(text: str, span: tuple[int, int]) -> str:
    return f"{text[:span[0]]} ¦ {text[span[1]:]}"
