"""Errors raised by the knowledge core.

    KnowledgeError
    ├── UserFacingError          safe to show to the person who asked
    │   ├── InvalidQuestion      empty, too long or unreadable question
    │   └── UnknownTerm          `define` of an id or alias that does not exist
    └── ContentError             the glossary on disk cannot be used (carries the issues)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.issues import Issue


class KnowledgeError(Exception):
    """Root of every error raised by `knowledge`."""


class UserFacingError(KnowledgeError):
    """An error whose message is written for the person asking."""


class InvalidQuestion(UserFacingError):
    """The question cannot be searched (empty, too long, not text)."""


class UnknownTerm(UserFacingError):
    """No governed term has this id or alias."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class ContentError(KnowledgeError):
    """The glossary has validation issues and cannot replace the last good set."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__(f"{len(issues)} problem(s) in the glossary; first: {issues[0]}")
