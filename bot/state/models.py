"""What the state store hands out: frozen records, never SQLAlchemy rows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

DefinitionKind = Literal["term", "metric"]
ChangeKind = Literal["added", "changed", "deprecated", "removed", "approved"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Version(Record):
    """One recorded version of a term or metric definition."""

    definition_id: str
    kind: DefinitionKind
    name: str
    version: str
    status: str
    owner: str
    text: str
    recorded_at: dt.datetime
    change: ChangeKind
    domain: str | None = None
    path: str | None = None
    in_force_from: dt.datetime | None = None


class Change(Version):
    """A version together with what it changed: the text before and a word-level diff."""

    diff: str = ""
    before: str | None = None
    previous_version: str | None = None
    previous_status: str | None = None

    @property
    def version_shown(self) -> str:
        """The version, as "3.0 → 3.1" when this change moved it."""
        if self.previous_version and self.previous_version != self.version:
            return f"{self.previous_version} → {self.version}"
        return self.version

    @property
    def status_shown(self) -> str:
        """The status, as "draft → approved" when this change moved it."""
        if self.previous_status and self.previous_status != self.status:
            return f"{self.previous_status} → {self.status}"
        return self.status


class Gap(Record):
    """A question the glossary could not answer (or answered unhelpfully), with its count."""

    question: str
    count: int
    last_asked: dt.datetime


class Subscription(Record):
    """A channel that hears about changes to a term id, a domain, or 'all'."""

    channel: str
    target: str
    surface: str = "slack"


class Notification(Record):
    """One outbox row claimed for delivery: where it goes and the change it announces."""

    id: int
    surface: str
    channel: str
    change: Change
    attempts: int
    claim: str


class Conversation(Record):
    """A chat conversation as last seen: what posting to it later needs."""

    surface: str
    conversation_id: str
    service_url: str | None = None
    tenant_id: str | None = None
    name: str | None = None
    kind: str | None = None
    updated_at: dt.datetime
