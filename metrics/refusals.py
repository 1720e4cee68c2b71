"""What the bot says instead of a number it did not fully understand the question for: the words
it could not use, and what it can use instead ("'germany' is not a region; regions: APAC, EMEA,
LATAM, NA")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from metrics.breakdown_phrases import GRAINS

# Which dimension a value after a preposition is most likely meant for.
_PLACE = ("in", "inside", "within", "across", "at")
_ORIGIN = ("from", "via", "through")
_SHOWN = 12  # values listed per dimension
_LEAVING_OUT = ("excluding", "exclude", "except", "without", "not", "non", "minus", "ex", "but")


@dataclass(frozen=True)
class Unused:
    """Words of a question that were not understood, and the word just before them."""

    words: str
    before: str = ""


@dataclass(frozen=True)
class MetricWords:
    """What a metric can be asked for with, as a refusal lists it."""

    name: str
    values: Mapping[str, Sequence[str]]  # dimension -> stored values
    spoken: Mapping[str, Mapping[str, str]]  # dimension -> spoken word -> stored value
    plurals: Mapping[str, str]
    others: Mapping[str, str]  # spoken value of a dimension this metric lacks -> dimension
    not_alone: Mapping[str, str]  # everyday word -> its dimension (said "sales-sourced")
    elsewhere: Mapping[str, str]  # a value of its dimension other metrics have -> dimension
    periodic: bool = True


def explain(unused: Sequence[Unused], refused_by: Sequence[str], about: MetricWords,
            extra: Sequence[str] = ()) -> str:
    """One message: each part not understood, then what can be used when that is not plain."""
    parts = [*extra]
    parts += [_cannot_break_down(dim, about) for dim in refused_by]
    specific = [_specific(u, about) for u in unused]
    parts += [s for s in specific if s]
    vague = [u.words.replace("_", " ") for u, s in zip(unused, specific, strict=True) if not s]
    if vague:
        quoted = ", ".join(f"'{w}'" for w in vague)
        parts.append(f"I could not use {quoted}; {_usable(about)}")
    return f"No number for {about.name}: " + "; ".join(parts)


def _specific(unused: Unused, about: MetricWords) -> str | None:
    words = unused.words.replace("_", " ")
    if words.split()[0] in _LEAVING_OUT:
        kinds = _list(list(about.values)) or "nothing"
        return (f"'{words}': I can keep values but not leave them out; name the ones to keep "
                f"instead ({about.name} can be filtered by {kinds})")
    if words in about.others:
        dim = about.others[words]
        can = _list(list(about.values)) or "nothing"
        return (f"'{words}' is a {dim}, and {about.name} cannot be filtered by {dim} "
                f"(it can by {can})")
    if words in about.not_alone:
        dim = about.not_alone[words]
        return (f"'{words}' alone is too vague to filter by; for the {dim}, say "
                f"'{words}-sourced' or 'from {words}'")
    if words in about.elsewhere:
        dim = about.elsewhere[words]
        return (f"'{words}' is not a {dim} of {about.name}; "
                f"{about.plurals.get(dim, dim)}: {_values(dim, about)}")
    close = _closest(words, about)
    if close is not None:
        dim, value = close
        return (f"'{words}' is not a {dim}; did you mean {value}? "
                f"{about.plurals.get(dim, dim)}: {_values(dim, about)}")
    guess = _guess(unused.before, about)
    if guess is not None and " " not in words:
        plural = about.plurals.get(guess, guess)
        return f"'{words}' is not a {guess}; {plural}: {_values(guess, about)}"
    return None


def _closest(words: str, about: MetricWords) -> tuple[str, str] | None:
    choices = {(dim, said): said for dim, table in about.spoken.items() for said in table}
    found = process.extractOne(words, choices, scorer=fuzz.ratio, score_cutoff=80)
    if found is None or len(words) < 3:
        return None
    dim, said = found[2]
    return dim, about.spoken[dim][said]


def _guess(before: str, about: MetricWords) -> str | None:
    if before in _PLACE and "region" in about.values:
        return "region"
    if before in _ORIGIN and "source" in about.values:
        return "source"
    if len(about.values) == 1 and before in (*_PLACE, *_ORIGIN, "for"):
        return next(iter(about.values))
    return None


def _cannot_break_down(dim: str, about: MetricWords) -> str:
    can = [*about.values, *(GRAINS if about.periodic else ())]
    return f"{about.name} cannot be broken down by {dim}; it can by {_list(can) or 'nothing'}"


def _usable(about: MetricWords) -> str:
    """Everything a question about this metric may say."""
    parts = []
    if about.values:
        filters = ", ".join(f"{d} ({_values(d, about)})" for d in about.values)
        parts.append(f"filtered by {filters}")
    if about.periodic:
        parts.append("asked for a period ('last quarter', 'May 2026', 'from Jan 1 to Mar 31')")
        parts.append(f"broken down by {_list([*about.values, *GRAINS])}")
        parts.append("compared ('vs last quarter')")
    if not parts:
        return f"{about.name} is asked for as it is, with no period, filter or breakdown"
    return f"{about.name} can be {'; '.join(parts[:-1])}{'; or ' if len(parts) > 1 else ''}" \
           f"{parts[-1]}"


def _values(dim: str, about: MetricWords) -> str:
    values = sorted(about.values.get(dim, ()), key=str.lower)
    shown = ", ".join(values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


def _list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
