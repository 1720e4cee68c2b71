"""Errors raised by the state store.

    StateError
    ├── SyncRefused        the governed files are invalid: nothing was recorded (carries issues)
    ├── NotRecorded        shown to people: no such definition, or none in force that day
    └── UnknownRevision    the store's schema is newer than this release: it is left alone

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



class UnknownRevision(StateError):
    """The state store was written by a newer release: this one will not touch it."""

    def __init__(self, found: str, known: str) -> None:
        self.found = found
        super().__init__(f"the state store's schema is at revision {found}, newer than this "
                         f"release knows ({known}): run the release that wrote it, or newer")
