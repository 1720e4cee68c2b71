"""Word-level differences between two versions of a definition's text."""

from __future__ import annotations

import difflib
import re
from typing import Literal

Op = Literal["equal", "delete", "insert"]
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(before: str, after: str) -> list[tuple[Op, str]]:
    """The after text as runs of kept, removed and added words (whitespace kept as is)."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    ops: list[tuple[Op, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            ops.append(("delete", "".join(old[i1:i2])))
        if tag in ("insert", "replace"):
            ops.append(("insert", "".join(new[j1:j2])))
        if tag == "equal":
            ops.append(("equal", "".join(old[i1:i2])))
    return [(op, text) for op, text in ops if text]


def diff_text(before: str, after: str) -> str:
    """The diff as one string in git's word-diff style: `[-removed-]{+added+}`."""
    marks = {"delete": "[-{}-]", "insert": "{{+{}+}}", "equal": "{}"}
    return "".join(marks[op].format(text) for op, text in word_diff(before, after))


def diff_summary(before: str, after: str, context: int = 4) -> str:
    """Only the changed words with a few words either side: `… reached [-65-]{+70+} or …`."""
    ops = word_diff(before, after)
    parts = []
    for i, (op, text) in enumerate(ops):
        if op == "delete":
            parts.append(f"[-{text}-]")
        elif op == "insert":
            parts.append(f"{{+{text}+}}")
        else:
            parts.append(_context(text, context, first=i == 0, last=i == len(ops) - 1))
    return "".join(parts).strip()


def _context(text: str, words: int, first: bool, last: bool) -> str:
    tokens = _TOKENS.findall(text)
    keep = 2 * words  # tokens alternate word and space, roughly
    if len(tokens) <= 2 * keep or (first and last):
        return text if not (first and last) else ""
    head = "" if first else "".join(tokens[:keep])
    tail = "" if last else "".join(tokens[-keep:])
    return f"{head} … {tail}" if head and tail else (f"{head} …" if head else f"… {tail}")
