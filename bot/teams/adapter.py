"""The Teams SDK's HTTP adapter for our own ASGI server: it keeps the SDK's routes, runs none.

`App(http_server_adapter=adapter)` then `await app.initialize()` registers
`POST /api/messages` here (the SDK's JWT check and activity routing sit behind it). The
server that already serves `/slack/events` hands those requests to `adapter.handle`, so both
platforms live in one process on one event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydantic_core import to_json

if TYPE_CHECKING:  # importing the SDK's app package costs about two seconds
    from microsoft_teams.apps.http.adapter import HttpMethod, HttpRouteHandler

MESSAGES_PATH = "/api/messages"
# An activity is a few kB (Teams refuses messages over about 28 KB); this bounds what a
# stranger can make the server read before the SDK's token check turns them away.
MAX_BODY = 1_000_000
log = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class AsgiAdapter:
    """An `HttpServerAdapter` whose routes are served by the caller's ASGI server."""

    def __init__(self, max_body: int = MAX_BODY) -> None:
        self.max_body = max_body
        self._routes: dict[str, HttpRouteHandler] = {}

    @property
    def paths(self) -> frozenset[str]:
        """The paths the SDK registered (`/api/messages` once the app is initialized)."""
        return frozenset(self._routes)

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        """Keep the SDK's handler for `POST path`."""
        if method != "POST":
            raise ValueError(f"only POST routes are served, not {method} {path}")
        self._routes[path] = handler

    def serve_static(self, path: str, directory: str) -> None:
        """Tabs and static pages are not served by this process."""
        raise NotImplementedError(f"static pages are not served ({path} from {directory})")

    async def start(self, port: int) -> None:
        """The bot's own server serves these routes; the SDK never starts one."""
        raise NotImplementedError("serve the adapter through the bot's ASGI app, not app.start()")

    async def stop(self) -> None:
        """Nothing to stop: the server belongs to the caller."""

    async def handle(self, scope: dict, receive: Receive, send: Send) -> None:
        """ASGI entry point for the SDK's routes; 404 for any other path."""
        if scope["type"] != "http":
            return
        if scope["path"] not in self._routes:
            return await _send(send, 404, b'{"error":"not found"}')
        if scope["method"] != "POST":
            return await _send(send, 405, b'{"error":"method not allowed"}')
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        body = await _body(receive, _declared(headers, self.max_body), self.max_body)
        if body is None:
            return await _send(send, 413, b'{"error":"too large"}')
        status, content = await self.dispatch(scope["path"], headers, body)
        return await _send(send, status, content)

    async def dispatch(self, path: str, headers: dict[str, str],
                       body: bytes) -> tuple[int, bytes]:
        """The SDK's answer to one POST: its status and JSON body (empty when it has none)."""
        handler = self._routes.get(path)
        if handler is None:
            return 404, b'{"error":"not found"}'
        try:
            activity = json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            activity = None
        if not isinstance(activity, dict):
            log.info("refused a POST to %s whose body is not a JSON object", path)
            return 400, b'{"error":"body is not a JSON object"}'
        response = await handler({"body": activity, "headers": headers})  # an HttpRequest
        answer = response.get("body")
        # An invoke's answer (a card, a search result) may still hold SDK models.
        return response["status"], b"" if answer is None else to_json(answer, by_alias=True)


def _declared(headers: dict[str, str], limit: int) -> int:
    """The declared body size; an unreadable one counts as too large."""
    length = headers.get("content-length") or "0"
    return int(length) if length.isascii() and length.isdigit() else limit + 1


async def _body(receive: Receive, declared: int, limit: int) -> bytes | None:
    """The request body, or None once it is over `limit` (declared or actually sent)."""
    if declared > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
