"""Split a Markdown file into YAML front matter and body, remembering each key's line."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


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
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

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
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(yaml_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        raise FrontMatterError(line, f"invalid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise FrontMatterError(2, "the front matter must be a mapping of fields")
    return Parsed(
        data=data,
        body="".join(lines[end + 1 :]),
        body_line=end + 2,
        lines=_key_lines(node, (), offset=2),
    )


def _key_lines(node: yaml.Node, prefix: tuple[str, ...], offset: int) -> dict:
    found: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            found[path] = key.start_mark.line + offset
            found.update(_key_lines(value, path, offset))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, str(index))
            found[path] = item.start_mark.line + offset
            found.update(_key_lines(item, path, offset))
    return found
