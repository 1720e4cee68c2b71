"""Errors raised by the state store.

    StateError
    ├── SyncRefused        the governed files are invalid: nothing was recorded (carries issues)
    └── NotRecorded        shown to people: no such definition, or none in force that day

A failed post is not an exception here: it is recorded on its outbox row and retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.issues import Issue


class StateError(Exception):
    """Root of every error raised by `bot.state`."""


class SyncRefused(StateError):
    """The glossary or metric definitions have problems; the sync wrote nothing."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        first = f"; first: {issues[0]}" if issues else ""
        super().__init__(f"refusing to sync: {len(issues)} problem(s) in the definitions{first}")


class NotRecorded(StateError):
    """The history has no such definition, or none was in force on the asked day."""

