"""Who is asking, as restricted metrics need it: the channel's name and the asker's user groups.

A metric's `visibility` names channels and Slack user-group handles. Events carry a channel id,
not its name, and nothing says which groups a person is in, so both are looked up through the
Web API (`conversations.info`, `usergroups.list`) and kept for a while. A lookup that fails
grants nothing: the metric stays restricted, and the last good answer is kept meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.reply import Where
from metrics.audience import Audience

log = logging.getLogger(__name__)


class SlackAudiences:
    """`audience(where)` for the metric engine, from cached Web API lookups."""

    def __init__(self, client: WebClient, ttl_s: float = 600.0, retry_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._retry_s = retry_s  # a failed lookup is tried again this much sooner
        self._clock = clock
        self._lock = threading.Lock()
        self._names: dict[str, tuple[float, str | None]] = {}
        self._groups: tuple[float, dict[str, frozenset[str]]] | None = None
        self._refreshing = False

    def audience(self, where: Where) -> Audience:
        """The asker: the conversation's channel and the user groups they are in."""
        name = where.channel_name or self.channel_name(where.channel)
        return Audience(channel=name or where.channel, groups=self.groups_of(where.user))

    def conversation(self, where: Where) -> Audience:
        """Everyone who reads the conversation: its channel alone, no one's groups."""
        name = where.channel_name or self.channel_name(where.channel)
        return Audience(channel=name or where.channel)

    def channel_name(self, channel_id: str | None) -> str | None:
        """A channel's name (None for DMs, or when Slack will not say)."""
        if not channel_id:
            return None
        with self._lock:
            known = self._names.get(channel_id)
        if known and known[0] > self._clock():
            return known[1]
        # The lookup runs outside the lock: one slow channel must not hold up the others.
        try:
            channel = self._client.conversations_info(channel=channel_id)["channel"]
            name, expires = channel.get("name"), self._clock() + self._ttl_s
        except (SlackClientError, OSError) as exc:  # OSError: timeouts, refused connections
            log.info("could not look up channel %s: %s", channel_id, _reason(exc))
            name, expires = (known[1] if known else None), self._clock() + self._retry_s
        with self._lock:
            self._names[channel_id] = (expires, name)
        return name

    def groups_of(self, user: str | None) -> frozenset[str]:
        """The handles of the user groups a person belongs to."""
        if not user:
            return frozenset()
        with self._lock:
            groups = self._groups
            stale = groups is None or groups[0] <= self._clock()
            # One refresh at a time; meanwhile everyone else uses what is known.
            refresh = stale and not self._refreshing
            if refresh:
                self._refreshing = True
        if refresh:
            try:
                groups = self._list_groups()
                with self._lock:
                    self._groups = groups
            finally:
                with self._lock:
                    self._refreshing = False
        return groups[1].get(user, frozenset()) if groups else frozenset()

    def _list_groups(self) -> tuple[float, dict[str, frozenset[str]]]:
        try:
            listed = self._client.usergroups_list(include_users=True)["usergroups"]
        except (SlackClientError, OSError) as exc:  # OSError: timeouts, refused connections
            log.warning("could not list Slack user groups (%s); restricted metrics are "
                        "answered only in their channels until it works", _reason(exc))
            kept = self._groups[1] if self._groups else {}
            return self._clock() + self._retry_s, kept
        members: dict[str, set[str]] = defaultdict(set)
        for group in listed:
            if group.get("date_delete"):
                continue  # a disabled group grants nothing
            for user in group.get("users") or ():
                members[user].add(group["handle"])
        return self._clock() + self._ttl_s, {u: frozenset(h) for u, h in members.items()}


def _reason(exc: SlackClientError | OSError) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return str(exc)
