"""Words people use for dimension values ("mid market", "new logo"), governed as data.

Each dimension may have a file `dimensions/<dimension>.yml` beside the metric definitions:

    id: segment
    plural: segments
    names: [market segment]               # optional: other names for the dimension itself
    values:
      Mid-Market: [mid market, midmarket, mid-size]
    alone: [SMB, Mid-Market, Enterprise]   # optional; see Words.alone

The values are the warehouse's spelling; the words are matched whole, case-insensitively, with
hyphens read as spaces and an optional plural "s". Problems are collected as
`path:line: field: message`, like the metric definitions'.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.frontmatter import key_lines
from knowledge.issues import Issue
from knowledge.loading import relative
from metrics.model import DIMENSIONS
from metrics.yaml_files import Loader, read_mapping

WORDS_DIR = "dimensions"


def spoken(text: str) -> str:
    """How a phrase is compared: lower case, words only, hyphens and underscores as spaces."""
    lowered = re.sub(r"(?<=[^\W\d])[-_/](?=[^\W\d])|\.{3,}|(?<!\w)-+|-+(?!\w)", " ",
                     text.lower())
    kept = re.sub(r"[^\w%×:.\-¦]+|(?<!\.)\.(?!\.)", " ", lowered)  # ¦: a cut (questions)
    return " ".join(kept.replace("_", " ").split())


class Words(BaseModel):
    """The words for one dimension's values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="The dimension, as metrics name it; equal to the file name.")
    plural: str = Field(min_length=2, description="How messages name several of them.")
    # Other names people give the dimension itself: "by rep" is "by owner".
    names: tuple[str, ...] = ()
    values: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Stored values that are everyday words ("sales") match only through the words listed for
    # them ("sales sourced"), never on their own. Empty: every stored value matches alone.
    not_alone: tuple[str, ...] = ()
    path: str = ""

    def lookup(self, stored: dict[str, str]) -> dict[str, str]:
        """Spoken word -> stored value, for the values a metric's warehouse actually holds."""
        held = {value.lower(): value for value in stored.values()}
        shy = {v.lower() for v in self.not_alone}
        found = {spoken(value): value for key, value in held.items() if key not in shy}
        for value, words in self.values.items():
            if value.lower() in held:
                found.update({spoken(word): held[value.lower()] for word in words})
        found.pop("", None)
        return found


def plain_lookup(stored: dict[str, str]) -> dict[str, str]:
    """Spoken word -> stored value when a dimension has no words file."""
    return {s: value for value in stored.values() if (s := spoken(value))}


def check_value_words(definitions: Path,
                      shown_root: Path) -> tuple[dict[str, Words], list[Issue]]:
    """Every `dimensions/*.yml` under the definitions folder; a missing folder is no words."""
    folder = definitions / WORDS_DIR
    words: dict[str, Words] = {}
    issues: list[Issue] = []
    if not folder.is_dir():
        return words, issues
    named = {spoken(dim): dim for dims in DIMENSIONS.values() for dim in dims}
    for path in sorted(folder.glob("*.yml")):
        shown = relative(path, shown_root)
        found, problems = _load(path, shown)
        issues += problems
        if found is None:
            continue
        words[found.id] = found
        for index, name in enumerate(found.names):
            if named.setdefault(spoken(name), found.id) != found.id:
                issues.append(Issue(path=shown, line=_line(path, "names"), field=f"names.{index}",
                                    message=f"'{name}' already names "
                                            f"'{named[spoken(name)]}'"))
    return words, issues


def dimension_names(words: dict[str, Words]) -> dict[str, str]:
    """Spoken name -> dimension, for every dimension and the other names its file gives."""
    names = {spoken(dim): dim for dims in DIMENSIONS.values() for dim in dims}
    for dim, found in words.items():
        names |= {spoken(name): dim for name in found.names}
    return names


def _line(path: Path, key: str) -> int:
    lines = key_lines(yaml.compose(path.read_text(encoding="utf-8"), Loader=Loader), (), 1)
    return lines.get((key,), 1)


def _load(path: Path, shown: str) -> tuple[Words | None, list[Issue]]:
    data, lines, issues = read_mapping(path, shown)
    if data is None:
        return None, issues
    try:
        words = Words.model_validate(dict(data, path=shown))
    except ValidationError as exc:
        return None, [_issue(shown, lines, tuple(map(str, err["loc"])), _message(err))
                      for err in exc.errors()]
    problems = _problems(words, path.stem)
    return (None if problems else words), [_issue(shown, lines, at, msg) for at, msg in problems]


def _problems(words: Words, stem: str) -> list[tuple[tuple[str, ...], str]]:
    known = sorted({dim for dims in DIMENSIONS.values() for dim in dims})
    problems: list[tuple[tuple[str, ...], str]] = []
    if words.id != stem:
        problems.append((("id",), f"id '{words.id}' must match the file name '{stem}.yml'"))
    if words.id not in known:
        problems.append((("id",), f"'{words.id}' is not a dimension; dimensions: "
                                  f"{', '.join(known)}"))
    owner = {spoken(value): value for value in words.values}
    for value, listed in words.values.items():
        for index, word in enumerate(listed):
            at = ("values", value, str(index))
            said = spoken(word)
            if not said:
                problems.append((at, "a word needs letters or digits"))
            elif owner.setdefault(said, value) != value:
                problems.append((at, f"'{word}' already stands for '{owner[said]}'"))
    problems += [(("not_alone", str(i)), f"'{v}' is not one of the values listed above")
                 for i, v in enumerate(words.not_alone) if v not in words.values]
    return problems


def _message(err: dict) -> str:
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field (id, plural, names, values and not_alone are allowed)"
    return err["msg"].removeprefix("Value error, ")


def _issue(shown: str, lines: dict, loc: tuple[str, ...], message: str) -> Issue:
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    return Issue(path=shown, line=lines.get(probe, 1), field=".".join(loc) or "-",
                 message=message)
