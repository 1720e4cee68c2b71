"""Recognise a metric question in plain words: which metric, which period, by what, where."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from knowledge.answer import Period
from metrics.errors import BadRequest
from metrics.periods import Calendar, find_in_text

# Words that ask for a number rather than a meaning.
_NUMBER_CUES = re.compile(
    r"\b(our|we|us|how many|how much|current(ly)?|today|right now|number of|total|so far|"
    r"trend(ing)?|tracking|looking like|did|do we have|are we at)\b")
# Words that ask for a meaning, even when "we" appears ("how do we calculate ...").
_MEANING_CUES = re.compile(
    r"\b(defin\w*|mean(s|ing|t)?|formula|calculat\w*|comput\w*|measured|what counts|"
    r"how (do|should|does|is|are) (we|you|it|they|one) (count|measure|calculate|compute|"
    r"define|track)|difference between|vs\.?|versus|who owns|owner)\b")
_RANGE_DOTS = re.compile(r"(?<=\d)\.\.(?=\d)")
_BY = re.compile(r"\b(?:broken down |split |grouped )?(?:by|per) (\w+?)s?\b")
_WHERE = re.compile(r"\bwhere (\w+)\s*=\s*(\"[^\"]+\"|'[^']+'|[^\s,]+)")
_FILLER = re.compile(
    r"\b(what('s| is| are| was| were)?|whats|how|many|much|did|do|does|we|our|us|get|got|"
    r"have|has|the|a|an|in|for|of|on|at|during|show|me|tell|give|is|are|was|were|current|"
    r"currently|so far|total|number|this|metric|please|value|and|to|it|right now|today|"
    r"looking|like|tracking|trend|trending|s)\b")  # s: what's, where's, once ' is a space


@dataclass(frozen=True)
class MetricQuestion:
    """A parsed metric request; `period` None means the metric's default."""

    metric: str
    period: Period | None = None
    by: tuple[str, ...] = ()
    where: dict[str, str] = field(default_factory=dict)


def _words(text: str) -> str:
    # Punctuation separates words, except the ".." of a date range ("2026-01-01..2026-03-31"),
    # which would otherwise become two dates and answer for the first one alone.
    kept = _RANGE_DOTS.sub("\x00", text.lower())
    return " " + " ".join(re.sub(r"[^\w%×:\x00-]+", " ", kept).split()).replace("\x00", "..") + " "


class Phrases:
    """The phrases that name metrics, normalised once: every question is checked against all."""

    def __init__(self, vocabulary: Mapping[str, str]) -> None:
        # Longest first, so "pipeline coverage" wins over "pipeline".
        self._needles = [(needle, vocabulary[phrase])
                         for phrase in sorted(vocabulary, key=len, reverse=True)
                         if (needle := _words(phrase)).strip()]

    def find(self, text: str) -> tuple[str | None, str]:
        """The metric whose longest phrase the text contains, and the text without it."""
        padded = _words(text)
        for needle, metric in self._needles:
            if needle in padded:
                return metric, padded.replace(needle, " ", 1).strip()
        return None, text


def is_metric_question(text: str) -> bool:
    """Asks for a number (ours, how many, a period, a breakdown) and not for a meaning."""
    lowered = text.lower()
    return not _MEANING_CUES.search(lowered) and bool(_NUMBER_CUES.search(lowered))


def parse_question(text: str, phrases: Phrases, cal: Calendar,
                   values: Callable[[str, str], dict[str, str]], dimensions: Callable[[str], tuple],
                   force: bool = False) -> MetricQuestion | None:
    """A MetricQuestion when `text` asks for a governed metric's number, else None.

    `values(metric, dim)` maps lower-cased dimension values to their stored spelling;
    `force` (the /metric command) skips the number-or-meaning test.
    """
    where = {d.lower(): v.strip("\"'") for d, v in _WHERE.findall(text)}
    metric, rest = phrases.find(_WHERE.sub(" ", text))
    if metric is None:
        return None
    by = tuple(d.lower() for d in _BY.findall(rest) if d.lower() in dimensions(metric))
    rest = _BY.sub(" ", rest) if by else rest
    try:
        period, rest = find_in_text(rest.replace("_", " "), cal)
    except BadRequest:
        # "What was an MQL in 1850?" asks the glossary, whatever the year; a number cannot.
        if not force and _MEANING_CUES.search(text.lower()):
            return None
        raise
    rest = _words(rest)
    for dim in dimensions(metric):
        if dim in where:
            continue
        for lowered, stored in values(metric, dim).items():
            spoken = _words(lowered.replace("_", " "))
            if spoken.strip() and spoken in rest:
                where[dim] = stored
                rest = rest.replace(spoken, " ", 1)
                break
    cues = bool(period or by or where)
    if not force and not cues and not is_metric_question(text):
        return None
    if not force and _MEANING_CUES.search(text.lower()):
        return None
    if force and (left := _FILLER.sub(" ", _words(rest)).split()):
        raise BadRequest(f"I did not understand '{' '.join(left)}'; write "
                         "`METRIC [period] [by DIM] [where DIM=VALUE]`, e.g. "
                         "`win_rate last_quarter by segment where region=EMEA`")
    return MetricQuestion(metric=metric, period=period, by=by, where=where)
