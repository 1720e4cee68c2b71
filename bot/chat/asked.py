"""What was asked, carried in a button's value so a click can answer, share or rate it again."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

Via = Literal["ask", "define", "metric"]
MAX_VALUE = 2000  # the smallest limit on a button value (Slack's)


class Asked(BaseModel):
    """The request behind an answer: how it was asked, the words, and the answer's id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    via: Via
    text: str
    answer_id: str | None = None

    def encode(self) -> str:
        """A button value; the text is shortened until it fits Slack's limit."""
        value = self.model_dump_json(exclude_none=True)
        overflow = len(value) - MAX_VALUE
        if overflow > 0:
            value = self.model_copy(update={"text": self.text[: -overflow - 8]}).model_dump_json(
                exclude_none=True)
        return value

    @classmethod
    def decode(cls, value: str | None) -> Asked | None:
        """The request from a button value, or None when it is not one of ours."""
        try:
            return cls.model_validate_json(value or "")
        except ValidationError:
            return None
