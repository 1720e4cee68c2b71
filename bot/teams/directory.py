"""Teams channel names, for metrics restricted to named channels: looked up, cached, and
failing closed (no name: the restricted metric is refused, never shown)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT_S = 1.5  # an answer must not wait long on a directory lookup
GENERAL = "General"  # the team's default channel comes back without a name


class ChannelNames:
    """Channel id -> name, from the Bot Connector's list of a team's channels."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    async def name(self, api: Any, team_id: str | None, channel_id: str) -> str | None:
        """The channel's display name, or None when it cannot be found out just now."""
        if channel_id in self._names or not team_id:
            return self._names.get(channel_id)
        try:
            channels = await asyncio.wait_for(api.teams.get_conversations(team_id),
                                              LOOKUP_TIMEOUT_S)
        except Exception as exc:  # any failure: no name, so restricted metrics stay closed
            log.warning("could not look up the channels of team %s: %s", team_id, exc)
            return None
        for channel in channels:
            if channel.id:
                self._names[channel.id] = channel.name or GENERAL
        return self._names.get(channel_id)
