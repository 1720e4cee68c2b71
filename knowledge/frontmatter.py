"""Split a Markdown file into YAML front matter and body, remembering each key's line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import yaml

# libyaml when present: parsing is the bulk of a reload over thousands of files.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)


class FrontMatterError(ValueError):
    """The file has no front matter or it is not valid YAML."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Parsed:
    data: dict
    body: str
    body_line: int
    yaml_text: str

    @property
    def top_lines(self) -> dict[str, int]:
        """Line of each top-level key, found without a second YAML parse."""
        found: dict[str, int] = {}
        for match in _TOP_KEY.finditer(self.yaml_text):
            line = self.yaml_text.count("\n", 0, match.start()) + 2
            found.setdefault(match.group(1), line)
        return found

    @cached_property
    def lines(self) -> dict[tuple[str, ...], int]:
        """Line of every key and list item; only needed when reporting a problem."""
        return key_lines(yaml.compose(self.yaml_text, Loader=_Loader), (), offset=2)

    def line_of(self, loc: tuple[str | int, ...]) -> int:
        """The line of the deepest known key on `loc`, else the opening `---`."""
        path = tuple(str(part) for part in loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def parse(text: str) -> Parsed:
    """Parse `---` YAML `---` then Markdown; lines are 1-based file lines."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError(1, "the file must start with a '---' line opening the front matter")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise FrontMatterError(1, "the front matter opened on line 1 is never closed by '---'")
    yaml_text = "".join(lines[1:end])
    try:
        data = yaml.load(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        raise FrontMatterError(line, f"invalid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise FrontMatterError(2, "the front matter must be a mapping of fields")
    return Parsed(data=data, body="".join(lines[end + 1 :]), body_line=end + 2,
                  yaml_text=yaml_text)


def key_lines(node: yaml.Node, prefix: tuple[str, ...], offset: int) -> dict:
    """Line of every mapping key and list item under `node`, keyed by path."""
    found: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            found[path] = key.start_mark.line + offset
            found.update(key_lines(value, path, offset))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, str(index))
            found[path] = item.start_mark.line + offset
            found.update(key_lines(item, path, offset))
    return found
