"""The Teams SDK's HTTP adapter for our own ASGI server: it keeps the SDK's routes, runs none.

`App(http_server_adapter=adapter)` then `await app.initialize()` registers
`POST /api/messages` here (the SDK's JWT check and activity routing sit behind it). The
server that already serves `/slack/events` hands those requests to `adapter.handle`, so both
platforms live in one process on one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydantic_core import to_json

from bot.http_body import read_body

if TYPE_CHECKING:  # importing the SDK's app package costs about two seconds
    from microsoft_teams.apps.http.adapter import HttpMethod, HttpRouteHandler

MESSAGES_PATH = "/api/messages"
# An activity is a few kB (Teams refuses messages over about 28 KB); this bounds what a
# stranger can make the server read before the SDK's token check turns them away.
MAX_BODY = 1_000_000
# The longest an acknowledged message waits for a burst's other acknowledgements first.
LATER_WITHIN_S = 0.5
# In a burst, how long the requests must pause before deferred work goes on.
SETTLE_S = 0.02
log = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


# Checks an activity's token as the SDK does (its own validator); True: let it in.
Admit = Callable[[dict[str, str], dict], Awaitable[bool]]


class AsgiAdapter:
    """An `HttpServerAdapter` whose routes are served by the caller's ASGI server.

    With `admit`, a plain message activity (nothing to return but 200) is acknowledged as soon
    as its token checks out, and handed to the SDK right after: the SDK builds a context of
    API clients for every activity (about 1.5 ms), which need not hold up the answer to the
    Bot Connector. Invokes, whose answer is the HTTP body, go through the SDK first.
    """

    def __init__(self, max_body: int = MAX_BODY, admit: Admit | None = None) -> None:
        self.max_body = max_body
        self.admit = admit
        self._later: set[asyncio.Task] = set()
        self._routes: dict[str, HttpRouteHandler] = {}
        self.inflight = 0  # requests read but not yet answered
        self._last_request = 0.0
        self._waiting = 0  # deferred work waiting in `quiet`
        self._idle: asyncio.Event | None = None
        self._turn: asyncio.Lock | None = None

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

    async def quiet(self, most_s: float) -> None:
        """Until no request is waiting for its HTTP answer, or `most_s` has passed.

        Work that can wait (answers posted after the acknowledgement) waits here, so a burst
        of activities is acknowledged first: the Bot Connector retries what it thinks was lost.
        While other work waits too (a burst), the requests must also have paused for
        `SETTLE_S`, since a burst's connections arrive a few at a time; alone, it goes at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + most_s
        self._waiting += 1
        try:
            while (now := loop.time()) < deadline:
                if self.inflight == 0:
                    calm = self._last_request + SETTLE_S - now
                    if self._waiting == 1 or calm <= 0:
                        return
                    await asyncio.sleep(min(calm, deadline - now))
                    continue
                if self._idle is None:
                    self._idle = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), deadline - now)
        finally:
            self._waiting -= 1

    async def handle(self, scope: dict, receive: Receive, send: Send) -> None:
        """ASGI entry point for the SDK's routes; 404 for any other path."""
        if scope["type"] != "http":
            return
        self.inflight += 1
        self._last_request = asyncio.get_running_loop().time()
        if self._idle is not None:
            self._idle.clear()
        try:
            await self._handle(scope, receive, send)
        finally:
            self.inflight -= 1
            if self.inflight == 0 and self._idle is not None:
                self._idle.set()

    async def _handle(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["path"] not in self._routes:
            return await _send(send, 404, b'{"error":"not found"}')
        if scope["method"] != "POST":
            return await _send(send, 405, b'{"error":"method not allowed"}')
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        body = await read_body(receive, headers, self.max_body)
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
        request = {"body": activity, "headers": headers}  # an HttpRequest
        if self.admit is not None and activity.get("type") == "message":
            if not await self.admit(headers, activity):
                return 401, b'{"error":"Unauthorized"}'
            task = asyncio.get_running_loop().create_task(self._later_handled(handler, request))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
            return 200, b""
        response = await handler(request)
        answer = response.get("body")
        # An invoke's answer (a card, a search result) may still hold SDK models.
        return response["status"], b"" if answer is None else to_json(answer, by_alias=True)


    async def _later_handled(self, handler: HttpRouteHandler, request: dict) -> None:
        await self.quiet(LATER_WITHIN_S)
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            # A burst's activities, released together, go to the SDK one per pass of the event
            # loop: a request arriving meanwhile waits for one activity's turn, not for them all.
            await asyncio.sleep(0)
        response = await handler(request)
        if response.get("status", 200) >= 300:  # the SDK logged why; say which activity
            log.warning("an acknowledged activity (%s) was refused after all: HTTP %s",
                        str(request["body"].get("id"))[:64], response.get("status"))

    async def drain(self) -> None:
        """Wait for the activities acknowledged but not yet handed over (tests, shutdown)."""
        while self._later:
            await asyncio.gather(*list(self._later), return_exceptions=True)


async def _send(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
