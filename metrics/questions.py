"""Read a metric question in plain words: its metric, period, breakdown, filters, comparison.

The bot gives a number only when it understood every word of a question that could change the
number. Words that change nothing ("what's our", "please", "looking") are passed over; any
other word is refused by name (`NotUnderstood`), with what the metric can use instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from knowledge.answer import Period
from metrics.breakdown_phrases import GRAINS, Breakdown, find_breakdown
from metrics.catalog import Catalog
from metrics.comparison_phrases import COMPARE_WORDS, find_comparison
from metrics.definitions import Metric
from metrics.engine import DEFAULT_PERIOD
from metrics.errors import BadRequest
from metrics.periods import Calendar, find_period, resolve
from metrics.question_words import (
    AGAINST_TARGET,
    CHANGE,
    FILLER,
    FORMAT_WORDS,
    MEANING_CUES,
    NUMBER_CUES,
    VERSUS,
    YES_NO,
    stem,
)
from metrics.refusals import MetricWords, Unused, explain
from metrics.value_words import dimension_names, plain_lookup, spoken

CUT = "¦"  # where understood words were taken out: nothing is read across it
_WHERE = re.compile(r"\bwhere (\w+)\s*=\s*(\"[^\"]+\"|'[^']+'|[^\s]+)", re.IGNORECASE)
_TODAY = re.compile(r"\b(?:so far )?today\b(?! so far)")
_AS_OF_NOW = re.compile(r"\b(as of (today|now)|right now|currently|current)\b")
# Words that put a value or a condition after them: "win rate in germany", "bookings next
# decade" ask for a number this metric cannot give, even without "our" or "how many".
_FILTERING = ("in", "for", "from", "across", "within", "at", "inside", "via", "by", "per",
              "each", "during", "over", "under", "above", "below", "excluding", "except",
              "without", "with", "between", "since", "before", "after", "until", "among", "only",
              "next", "last", "this", "past", "previous")
_JOINING = ("and", "or", "to", "nor")
_MAX_GAP = 3  # filler words allowed between the words of a metric's name
_GAP = FILLER | {"close"}  # "deals we closed won" names "deals won"


@dataclass(frozen=True)
class MetricQuestion:
    """A parsed metric request; `period` None means the metric's default."""

    metric: str
    period: Period | None = None
    by: tuple[str, ...] = ()
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    compare: Period | None = None


class NotUnderstood(BadRequest):
    """A metric question with words that could change the number and were not understood."""

    def __init__(self, message: str, metric: str) -> None:
        super().__init__(message)
        self.metric = metric


def _tokens(text: str) -> list[str]:
    return spoken(text).split()


class Phrases:
    """The phrases that name metrics, normalised once: every question is checked against all."""

    def __init__(self, vocabulary: Mapping[str, str], same: Mapping[str, str] | None = None
                 ) -> None:
        self._same = dict(same or {})
        # Longest first, so "pipeline coverage" wins over "pipeline".
        self._needles = [(tuple(self._stems(_tokens(phrase))), vocabulary[phrase])
                         for phrase in sorted(vocabulary, key=len, reverse=True)
                         if _tokens(phrase)]

    def _stems(self, words: list[str]) -> list[str]:
        return [self._same.get(s, s) for s in map(stem, words)]

    def find(self, text: str) -> tuple[str | None, str]:
        """The metric whose longest name the text contains, and the text without it.

        A name is found word for word first, then with filler between its words ("how many
        deals did we win" names "deals won").
        """
        words = _tokens(text)
        stems = self._stems(words)
        for gapped in (False, True):
            for needle, metric in self._needles:
                at = _locate(stems, words, needle, gapped)
                if at is not None:
                    kept = [CUT if i == at[0] else w for i, w in enumerate(words)
                            if i not in at[1:]]
                    return metric, " ".join(kept)
        return None, text


def _locate(stems: list[str], words: list[str], needle: tuple[str, ...],
            gapped: bool) -> list[int] | None:
    """Indexes of the needle's words in `stems`, in order; with `gapped`, separated by at most
    _MAX_GAP filler words each."""
    n = len(needle)
    if not gapped:
        for i in range(len(stems) - n + 1):
            if tuple(stems[i:i + n]) == needle:
                return list(range(i, i + n))
        return None
    if n < 2:
        return None
    if n == 2:  # "won deals" names "deals won"
        for i in range(len(stems) - 1):
            if (stems[i + 1], stems[i]) == needle:
                return [i + 1, i]
    for i, word in enumerate(stems):
        if word != needle[0]:
            continue
        found, j = [i], i
        for part in needle[1:]:
            j = next((k for k in range(j + 1, min(j + 2 + _MAX_GAP, len(stems)))
                      if stems[k] == part and all(stems[m] in _GAP or words[m] in _GAP
                                                  for m in range(j + 1, k))), None)
            if j is None:
                break
            found.append(j)
        else:
            # "closed" between the words is part of the name: it goes with them
            return found + [m for m in range(found[0], found[-1]) if m not in found
                            and stems[m] not in FILLER and words[m] not in FILLER]
    return None


def is_metric_question(text: str) -> bool:
    """Asks for a number (ours, how many, a period, a breakdown) and not for a meaning."""
    lowered = text.lower()
    return not MEANING_CUES.search(lowered) and bool(NUMBER_CUES.search(lowered))


def asks_for_number(text: str, cal: Calendar) -> bool:
    """Whether a question wants a number: ours, how many, or one for a period it names."""
    if is_metric_question(text):
        return True
    try:
        return not MEANING_CUES.search(text.lower()) and find_period(spoken(text), cal) is not None
    except BadRequest:
        return False


@dataclass
class _Reading:
    """A question as it is being read: what was understood, and the words left over."""

    metric: Metric
    rest: str
    period: Period | None = None
    compare: Period | None = None
    by: tuple[str, ...] = ()
    where: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    refused_by: tuple[str, ...] = ()


def parse_question(text: str, phrases: Phrases, cal: Calendar, catalog: Catalog,
                   stored: Callable[[str, str], dict[str, str]],
                   force: bool = False) -> MetricQuestion | None:
    """A MetricQuestion when `text` asks for a governed metric's number, else None.

    `stored(metric, dim)` maps lower-cased dimension values to the warehouse's spelling;
    `force` (the /metric command) skips the number-or-meaning test. A metric question with
    words that were not understood raises NotUnderstood naming them.
    """
    text = text.replace("’", "'")
    lowered = AGAINST_TARGET.sub(" ", text.lower())
    commanded = _WHERE.findall(text)
    metric_id, rest = phrases.find(AGAINST_TARGET.sub(" ", _WHERE.sub(f" {CUT} ", text)))
    if metric_id is None:
        return None
    metric = catalog[metric_id]
    lookups = _lookups(metric, catalog, stored)
    reading = _Reading(metric=metric, rest=f" {rest} ")
    try:
        _read(reading, phrases, cal, catalog, lookups, commanded)
    except BadRequest:
        # "What was an MQL in 1850?" asks the glossary, whatever the year; a number cannot.
        if not force and MEANING_CUES.search(lowered):
            return None
        raise
    several = any(len(v) > 1 for v in reading.where.values())
    compares = reading.compare is not None or (several and COMPARE_WORDS.search(lowered))
    meaning = (MEANING_CUES.search(lowered) or (VERSUS.search(lowered) and not compares)
               or (YES_NO.match(lowered) and not NUMBER_CUES.search(lowered)))
    if not force and meaning:
        return None
    unused = _unused(reading, bool(compares))
    understood = (reading.period or reading.compare or reading.by or reading.where
                  or reading.refused_by or NUMBER_CUES.search(lowered))
    if not force and not understood and not (
            unused and all(_opening(u) in _FILTERING for u in unused)):
        # A term named in passing ("does a lead need ICP fit to be an MQL", "pipeline cov"):
        # a question for the glossary.
        return None
    if unused or reading.problems or reading.refused_by:
        raise NotUnderstood(explain(unused, reading.refused_by, _words_of(metric, catalog,
                                                                           lookups, stored),
                                    reading.problems), metric.id)
    return MetricQuestion(metric=metric.id, period=reading.period, by=reading.by,
                          where={d: tuple(v) for d, v in reading.where.items()},
                          compare=reading.compare)


def _read(reading: _Reading, phrases: Phrases, cal: Calendar, catalog: Catalog,
          lookups: dict[str, dict[str, str]], commanded: list[tuple[str, str]]) -> None:
    metric = reading.metric
    other, rest = phrases.find(reading.rest)
    if other is not None and other != metric.id:
        reading.problems.append(f"it also names {catalog[other].name}; ask for one metric at "
                                "a time")
    if other == metric.id:
        reading.rest = f" {rest} "
    forward = metric.forward_looking
    asked, reading.rest = find_comparison(reading.rest, cal, forward)
    period = _period(reading, cal, forward)
    known = dimension_names(catalog.words)
    breakdown, reading.rest = find_breakdown(reading.rest, metric.dimensions, known)
    reading.refused_by = breakdown.refused
    _where(reading, lookups, commanded)
    _foreign_values(reading, catalog)
    if period is None and metric.additive and _TODAY.search(reading.rest) \
            and not _AS_OF_NOW.search(reading.rest):
        period = cal.named("today")  # "MQLs today" counts today's; "coverage today" is now
        reading.rest = _TODAY.sub(f" {CUT} ", reading.rest)
    period = _trend(reading, breakdown, period, cal)
    if asked is not None:
        default = resolve(DEFAULT_PERIOD, cal, forward)
        period, reading.compare = asked.periods(period, cal, default)
    reading.period = period
    if not catalog.periodic(metric) and (period or reading.compare or
                                         any(b in GRAINS for b in reading.by)):
        reading.problems.append(f"{metric.name} is measured over all data as of now, so it "
                                "has no period, comparison or breakdown by time")


def _period(reading: _Reading, cal: Calendar, forward: bool) -> Period | None:
    """The one period the question names; naming two without comparing them is refused."""
    found = find_period(reading.rest, cal, forward)
    if found is None:
        return None
    period, span = found
    reading.rest = _cut(reading.rest, span)
    again = find_period(reading.rest, cal, forward)
    if again is not None:
        reading.rest = _cut(reading.rest, again[1])
        reading.problems.append(
            f"it names two periods ({period.label} and {again[0].label}); ask for one, a "
            f"range ('from {period.label} to {again[0].label}') or a comparison "
            f"('{period.label} vs {again[0].label}')")
    return period


def _trend(reading: _Reading, breakdown: Breakdown, period: Period | None,
           cal: Calendar) -> Period | None:
    """A trend is by month unless a grain is named, over the last 12 months (ending today)
    unless a period is named."""
    by = breakdown.by
    if breakdown.trend and not any(b in GRAINS for b in by):
        by = ("month", *by)
    reading.by = tuple(dict.fromkeys((*by, *reading.by)))
    if breakdown.trend and period is None:
        return cal.trailing(12, "month")
    return period


def _lookups(metric: Metric, catalog: Catalog,
             stored: Callable[[str, str], dict[str, str]]) -> dict[str, dict[str, str]]:
    """Dimension -> spoken word -> stored value, for every dimension of the metric."""
    found = {}
    for dim in metric.dimensions:
        values = stored(metric.id, dim)
        words = catalog.words.get(dim)
        found[dim] = words.lookup(values) if words else plain_lookup(values)
    return found


def _where(reading: _Reading, lookups: dict[str, dict[str, str]],
           commanded: Sequence[tuple[str, str]]) -> None:
    """Every value the question names, several of one dimension kept together (IN)."""
    for dim, raw in commanded:  # `where region=EMEA,APAC` from the command syntax
        for value in raw.strip("\"'").split(","):
            known = lookups.get(dim.lower(), {})
            reading.where.setdefault(dim.lower(), []).append(known.get(spoken(value), value))
    spots: list[tuple[int, str, str]] = []
    ranked = sorted(((said, dim, value) for dim, table in lookups.items()
                     for said, value in table.items()), key=lambda t: len(t[0]), reverse=True)
    for said, dim, value in ranked:
        if said not in reading.rest:  # nothing to match: a compiled pattern per value is slow
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(said)}(?:s|es)?(?![\w-])")
        for match in pattern.finditer(reading.rest):
            spots.append((match.start(), dim, value))
            reading.rest = (reading.rest[:match.start()] + CUT.center(match.end()
                            - match.start()) + reading.rest[match.end():])
    for _, dim, value in sorted(spots):
        kept = reading.where.setdefault(dim, [])
        if value not in kept:
            kept.append(value)
    several = [d for d, v in reading.where.items() if len(v) > 1]
    if several and COMPARE_WORDS.search(reading.rest):
        # "EMEA vs APAC": each of them, side by side
        reading.by = tuple(dict.fromkeys((*reading.by, *several)))


def _foreign_values(reading: _Reading, catalog: Catalog) -> None:
    """Values of dimensions this metric lacks stay one phrase ("new business"), so the refusal
    can say which dimension they belong to."""
    said = sorted({spoken(w) for dim, words in catalog.words.items()
                   if dim not in reading.metric.dimensions
                   for value, listed in words.values.items() for w in (value, *listed)},
                  key=len, reverse=True)
    for phrase in (p for p in said if " " in p and p in reading.rest):
        reading.rest = re.sub(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])",
                              phrase.replace(" ", "_"), reading.rest)


def _unused(reading: _Reading, compares: bool) -> list[Unused]:
    """Runs of words that were not understood, each with the word before it."""
    metric = reading.metric
    skip = FILLER | FORMAT_WORDS.get(metric.format, frozenset()) | (
        CHANGE if compares else frozenset())
    if "type" not in metric.dimensions:
        skip |= {"new"}  # "new MQLs": every MQL is new; with types, "new" might be new_business
    found: list[Unused] = []
    run: list[str] = []
    passed: list[str] = []  # the words since the last one not understood
    for word in [*reading.rest.split(), CUT]:
        if word == CUT or word in skip or stem(word) in skip:
            if run:
                joined = found and all(w in _JOINING for w in passed)  # "germany and france"
                found.append(Unused(" ".join(run), _opening(found[-1]) if joined
                                    else _before(passed)))
                run, passed = [], []
            passed.append(word)
            continue
        run.append(word)
    return found


def _opening(unused: Unused) -> str:
    """The word that puts these words after it: "in" for "in the nordics" and for "next
    decade" its own first word."""
    first = unused.words.split()[0]
    return unused.before if unused.before in _FILTERING or first not in _FILTERING else first


def _before(passed: list[str]) -> str:
    """The preposition that puts a value after it ("in the nordics"), else the word before."""
    words = [w for w in passed if w != CUT]
    return next((w for w in reversed(words) if w in _FILTERING), words[-1] if words else "")


def _cut(text: str, span: tuple[int, int]) -> str:
    return f"{text[:span[0]]} {CUT} {text[span[1]:]}"


def _words_of(metric: Metric, catalog: Catalog, lookups: dict[str, dict[str, str]],
              stored: Callable[[str, str], dict[str, str]]) -> MetricWords:
    others: dict[str, str] = {}
    elsewhere: dict[str, str] = {}
    for dim, words in catalog.words.items():
        said = {spoken(w): dim for value, listed in words.values.items() for w in (value, *listed)}
        if dim in metric.dimensions:
            elsewhere |= {w: d for w, d in said.items() if w not in lookups.get(dim, {})}
        else:
            others |= said
    not_alone = {spoken(v): dim for dim, words in catalog.words.items()
                 if dim in metric.dimensions for v in words.not_alone}
    values = {dim: sorted(set(stored(metric.id, dim).values())) for dim in metric.dimensions}
    plurals = {dim: w.plural for dim, w in catalog.words.items()}
    return MetricWords(name=metric.name, values=values, spoken=lookups, plurals=plurals,
                       others=others, not_alone=not_alone, elsewhere=elsewhere,
                       periodic=catalog.periodic(metric))
