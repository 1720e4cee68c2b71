"""Read a governed YAML file into its top-level mapping and the line of every key, or say why
it cannot be read, with the file and line."""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.frontmatter import key_lines
from knowledge.issues import Issue, unreadable

# The C loader when PyYAML has it: the same result, several times faster.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_mapping(path: Path, shown: str) -> tuple[dict | None, dict, list[Issue]]:
    """(fields, {key path: line}, []) or (None, {}, [the issue]); `shown` names the file."""
    try:
        text = path.read_text(encoding="utf-8")
        node, data = _parse(text)
    except UnicodeDecodeError:
        return None, {}, [Issue(path=shown, line=1, field="-",
                                message="the file is not UTF-8 text")]
    except OSError as exc:
        return None, {}, [unreadable(shown, exc)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return None, {}, [Issue(path=shown, line=mark.line + 1 if mark else 1, field="-",
                                message=f"invalid YAML: {exc.problem or exc}")]
    if not isinstance(data, dict):
        return None, {}, [Issue(path=shown, line=1, field="-",
                                message="the file must be a mapping of fields")]
    return data, key_lines(node, (), offset=1), []


def _parse(text: str) -> tuple[yaml.Node | None, object]:
    """The document's node tree (for key lines) and its data, from one parse."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
