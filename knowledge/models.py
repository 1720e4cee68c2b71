"""The governed content as data: terms and guides."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Status = Literal["draft", "approved", "deprecated"]
Domain = Literal[
    "lifecycle", "pipeline", "revenue", "attribution", "finance", "data_quality", "governance"
]
System = Literal[
    "CRM", "marketing automation", "billing", "product", "support", "data warehouse"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(Strict):
    """The team accountable for a definition and the role that approves changes."""

    team: str = Field(min_length=2)
    role: str = Field(min_length=2)

    def __str__(self) -> str:
        return f"{self.team} ({self.role})"


class Governed(Strict):
    """Fields every governed document carries."""

    id: str = Field(pattern=ID_PATTERN)
    owner: Owner
    status: Status
    version: str
    updated: dt.date
    related: tuple[str, ...] = ()
    questions: tuple[str, ...] = Field(
        default=(), description="Questions people ask that this document answers; searchable."
    )
    path: str = ""
    body: str = ""
    field_lines: dict[str, int] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_quoted(cls, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError('write the version as a quoted string such as "2.0"')
        if not re.fullmatch(r"\d+\.\d+", value):
            raise ValueError(f'"{value}" is not MAJOR.MINOR, e.g. "2.0"')
        return value


class Term(Governed):
    """A governed glossary term."""

    kind: Literal["term"] = "term"
    name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    domain: Domain
    authoritative_system: System
    metric: str | None = Field(default=None, pattern=ID_PATTERN)
    replaced_by: str | None = None
    definition: str = Field(min_length=20, max_length=1200)

    @model_validator(mode="after")
    def _deprecation_names_replacement(self) -> Term:
        if self.status == "deprecated" and not self.replaced_by:
            raise ValueError("replaced_by: a deprecated term must name its replacement")
        return self

    @property
    def title(self) -> str:
        return self.name


class Section(Strict):
    """One `##` section of a guide, searchable and quotable on its own."""

    title: str
    text: str
    line: int


class Guide(Governed):
    """A how-we-work page: systems of record, lifecycle rules, processes."""

    kind: Literal["guide"] = "guide"
    title: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    summary: str = Field(min_length=20, max_length=1200)
    sections: tuple[Section, ...] = ()

    @property
    def name(self) -> str:
        return self.title


Document = Term | Guide
