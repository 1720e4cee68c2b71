"""How a surface's users type commands: Slack's slash commands, or words after a mention."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """The command words shown in help and usage lines, and how a user is named."""

    define: str
    metric: str
    ssot: str  # the prefix of the settings commands ("/ssot " on Slack, nothing on Teams)
    mentions: bool = True  # whether `<@USER>` names a user (Slack) or the id is shown as is
    # Whether a message starting with a command word is that command (no slash commands).
    typed: bool = False

    def user(self, user_id: str) -> str:
        """A user, named so the surface shows who it is."""
        return f"<@{user_id}>" if self.mentions else user_id


SLASH = Words(define="/define", metric="/metric", ssot="/ssot ")
TYPED = Words(define="define", metric="metric", ssot="", mentions=False, typed=True)
