"""An Example section works a formula through with made-up figures, never a real period's: one
that names a year reads as a result, and soon contradicts the live metric beside it."""

from __future__ import annotations

import re

from knowledge.answer import EXAMPLE_SECTION
from knowledge.issues import Issue

# A year or fiscal year ("2026", "FY2026", "FY26"); a campaign name such as FY26-Q3-WEB-...
# is a name, not a period.
_YEAR = re.compile(r"\b(?:FY ?)?(?:19|20)\d{2}\b|\bFY\d{2}\b(?!-)")


def example_issues(body: str, first_line: int, shown: str) -> list[Issue]:
    """One issue per Example section of a term's body that names a year."""
    issues: list[Issue] = []
    in_example = False
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("## "):
            in_example = line[3:].strip() == EXAMPLE_SECTION
            continue
        found = _YEAR.search(line) if in_example else None
        if found:
            issues.append(Issue(
                path=shown, line=first_line + offset, field=EXAMPLE_SECTION,
                message=f"'{found.group(0)}' ties the example to a real period, where it reads "
                        "as a live number; write 'a quarter' or '30 September' instead"))
            in_example = False
    return issues
