"""Read `glossary_docs/` into terms and guides, collecting every problem instead of stopping."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from knowledge.examples import example_issues
from knowledge.frontmatter import FrontMatterError, Parsed, parse
from knowledge.issues import Issue, unreadable
from knowledge.models import Guide, Section, Term

TERMS_DIR = "terms"
GUIDES_DIR = "guides"


@dataclass
class Loaded:
    """Everything that parsed, plus every issue found on the way."""

    terms: list[Term] = field(default_factory=list)
    guides: list[Guide] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    files: int = 0
    unreadable: set[str] = field(default_factory=set)


class FileMemo:
    """Each file's text and what it parsed to, so a reload re-parses only the files that changed.

    A file is read on every load (that is how a change is seen); parsing and validating it is
    the part worth skipping, and its result depends on nothing but its text and its path.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, tuple]] = {}

    def parse(self, path: Path, model: type[Term | Guide], shown: str, text: str) -> tuple:
        known = self._seen.get(shown)
        if known is not None and known[0] == text:
            return known[1]
        result = parse_file(text, path, model, shown)
        self._seen[shown] = (text, result)
        return result

    def retain(self, shown: set[str]) -> None:
        """Forget files that are gone."""
        for gone in self._seen.keys() - shown:
            del self._seen[gone]


def load_directory(root: Path, display_root: Path | None = None,
                   memo: FileMemo | None = None) -> Loaded:
    """Load every `terms/*.md` and `guides/*.md` under `root`."""
    loaded = Loaded()
    shown_base = display_root or root.parent
    if not root.is_dir():
        loaded.issues.append(Issue(path=str(root), line=0, field="-", message="no such directory"))
        return loaded
    seen: set[str] = set()
    for sub, model in ((TERMS_DIR, Term), (GUIDES_DIR, Guide)):
        folder = relative(root / sub, shown_base)
        for path in sorted((root / sub).glob("*.md")):
            loaded.files += 1
            shown = f"{folder}/{path.name}"
            seen.add(shown)
            doc, issues = load_file(path, model, shown, memo)
            loaded.issues.extend(issues)
            if doc is None:
                # Its id is still taken: references to it are not also wrong, only the file is.
                loaded.unreadable.add(path.stem)
            else:
                (loaded.terms if model is Term else loaded.guides).append(doc)
    if memo is not None:
        memo.retain(seen)
    if loaded.files == 0:
        loaded.issues.append(
            Issue(path=str(root), line=0, field="-", message="no terms/*.md or guides/*.md files")
        )
    return loaded


def load_file(path: Path, model: type[Term | Guide], shown: str,
              memo: FileMemo | None = None) -> tuple:
    """Parse and validate one file; returns (document or None, issues)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Issue(path=shown, line=1, field="-", message="the file is not UTF-8 text")]
    except OSError as exc:  # a directory named x.md, a symlink loop, no permission
        return None, [unreadable(shown, exc)]
    if memo is not None:
        return memo.parse(path, model, shown, text)
    return parse_file(text, path, model, shown)


def parse_file(text: str, path: Path, model: type[Term | Guide], shown: str) -> tuple:
    """Parse and validate one file's text; returns (document or None, issues)."""
    try:
        parsed = parse(text)
    except FrontMatterError as exc:
        return None, [Issue(path=shown, line=exc.line, field="front matter", message=str(exc))]
    fields = dict(parsed.data, path=shown, body=parsed.body.strip(),
                  field_lines=parsed.top_lines)
    if model is Guide:
        fields["sections"] = [s.model_dump() for s in split_sections(parsed.body, parsed.body_line)]
    try:
        doc = model.model_validate(fields)
    except ValidationError as exc:
        return None, [_issue(shown, parsed, err) for err in exc.errors()]
    if doc.id != path.stem:
        line = parsed.line_of(("id",))
        message = f"id '{doc.id}' must match the file name '{path.stem}.md'"
        return None, [Issue(path=shown, line=line, field="id", message=message)]
    if model is Term:
        return doc, example_issues(parsed.body, parsed.body_line, shown)
    return doc, []


def split_sections(body: str, first_line: int) -> list[Section]:
    """Cut a Markdown body at its `## ` headings; text before the first heading is skipped."""
    sections: list[Section] = []
    title, start, buf = None, 0, []
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("## "):
            if title and "".join(buf).strip():
                sections.append(Section(title=title, text="\n".join(buf).strip(), line=start))
            title, start, buf = line[3:].strip(), first_line + offset, []
        elif title is not None:
            buf.append(line)
    if title and "".join(buf).strip():
        sections.append(Section(title=title, text="\n".join(buf).strip(), line=start))
    return sections


def _issue(shown: str, parsed: Parsed, err: dict) -> Issue:
    loc = tuple(err["loc"])
    field_name = ".".join(str(part) for part in loc) or "-"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "required field is missing"
    elif err["type"] == "extra_forbidden":
        message = "unknown field (check the spelling against glossary_docs/README.md)"
    if not loc and message.startswith("replaced_by: "):
        field_name, message = "replaced_by", message.removeprefix("replaced_by: ")
        loc = ("status",)
    return Issue(path=shown, line=parsed.line_of(loc), field=field_name, message=message)


def relative(path: Path, base: Path) -> str:
    """`path` as shown in issues: relative to `base` when inside it, else as given."""
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
