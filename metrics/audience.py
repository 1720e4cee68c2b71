"""Who is asking: restricted metrics are answered only inside their audience."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Audience(BaseModel):
    """The channel a question came from and the groups the asker belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = None
    groups: frozenset[str] = frozenset()


PUBLIC = Audience()
