"""The Microsoft Entra groups a Teams user is in, for metrics restricted to groups.

Teams says nothing about groups in an activity, so they are looked up through Microsoft Graph
(`transitiveMemberOf`), where the app is allowed to: `TEAMS_GRAPH_GROUPS=1` once an admin has
consented to the GroupMember.Read.All application permission. A group matches a definition's
`visibility.groups` by its mail nickname or display name. A lookup that fails or is slow
grants nothing (restricted metrics stay closed) and is tried again a minute later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT_S = 1.5  # an answer must not wait long on a directory lookup
TTL_S = 600.0  # membership changes rarely; ten minutes late is acceptable for a refusal
RETRY_S = 60.0  # a failed lookup is not repeated for every question
PAGES = 10  # 9,990 groups: more is a directory problem, not a reason to wait

Token = Callable[[str | None], Awaitable[str | None]]


class GroupDirectory:
    """User (Entra object id) -> lower-cased names of the groups they are in, cached."""

    def __init__(self, graph_url: str, token: Token | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._graph_url = graph_url.rstrip("/")
        self._token = token  # None in TEAMS_DEV mode: calls carry no token
        self._clock = clock
        self._known: dict[str, tuple[float, frozenset[str]]] = {}
        self._client: httpx.AsyncClient | None = None

    async def groups_of(self, user: str | None, tenant: str | None) -> frozenset[str]:
        """The groups `user` is in, or none when Graph cannot say just now."""
        if not user:
            return frozenset()
        known = self._known.get(user)
        if known and known[0] > self._clock():
            return known[1]
        try:
            groups = await asyncio.wait_for(self._fetch(user, tenant), LOOKUP_TIMEOUT_S)
            ttl = TTL_S
        except Exception as exc:  # any failure: no groups, so restricted metrics stay closed
            log.warning("could not look up the groups of Teams user %s: %s", user,
                        str(exc) or type(exc).__name__)
            groups, ttl = frozenset(), RETRY_S
        self._known[user] = (self._clock() + ttl, groups)
        return groups

    async def _fetch(self, user: str, tenant: str | None) -> frozenset[str]:
        headers = {"ConsistencyLevel": "eventual"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {await self._token(tenant)}"
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=LOOKUP_TIMEOUT_S)
        url: str | None = (f"{self._graph_url}/v1.0/users/{quote(user, safe='')}"
                           "/transitiveMemberOf/microsoft.graph.group"
                           "?$select=displayName,mailNickname&$top=999")
        names: set[str] = set()
        for _ in range(PAGES):
            if url is None:
                break
            response = await self._client.get(url, headers=headers)
            response.raise_for_status()
            page = response.json()
            names |= {group[key].lower() for group in page.get("value", [])
                      for key in ("mailNickname", "displayName") if group.get(key)}
            url = page.get("@odata.nextLink")
        return frozenset(names)
