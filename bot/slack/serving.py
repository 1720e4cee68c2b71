"""Run the app: an HTTP server (`POST /slack/events`, `GET /healthz`) or Socket Mode.

The same server carries other surfaces' endpoints beside Slack's (`routes`: Teams'
`POST /api/messages`), so one process serves both platforms.

Over HTTP the app runs under uvicorn, on one event loop with a C HTTP parser. The Slack
signature is checked on the raw body before anything parses it (`verify.py`). Bolt's
dispatch only verifies, routes and acknowledges (the answers run on `Background`'s threads),
so it runs on the loop itself: a burst of requests costs a parse and a dispatch each, with no
hand-off to a thread between them. The one dispatch that waits on something is a redelivered
event, which waits for its claim in the state store (`once.py`): it runs on a thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping

import uvicorn
from slack_bolt import App

from bot.http_body import read_body
from bot.slack.verify import bolt_request, signed, ssl_check

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
MAX_BODY = 1_000_000
RETRY_HEADER = "x-slack-retry-num"
log = logging.getLogger(__name__)

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
# `/readyz`: (ready, report as JSON); it may touch the network, so it runs on a thread.
Ready = Callable[[], tuple[bool, bytes]]
Asgi = Callable[[dict, Receive, Send], Awaitable[None]]


def asgi_app(app: App | None, ready: Ready | None = None,
             routes: Mapping[str, Asgi] | None = None) -> Asgi:
    """The ASGI callable: Bolt's own request dispatch (when Slack is served), the other
    surfaces' `routes`, liveness and readiness."""
    secret = _signing_secret(app) if app is not None else b""
    routes = dict(routes or {})

    async def handle(scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return None
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return await _send(send, 200, b"ok")
        if path == READY_PATH and method in ("GET", "HEAD") and ready is not None:
            ok, report = await asyncio.get_running_loop().run_in_executor(None, ready)
            return await _send(send, 200 if ok else 503, report, b"application/json")
        if path in routes:
            return await routes[path](scope, receive, send)
        if path != EVENTS_PATH or app is None:
            return await _send(send, 404, b"not found")
        if method != "POST":
            return await _send(send, 405, b"method not allowed")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = await read_body(receive, headers, MAX_BODY)
        if body is None:
            return await _send(send, 413, b"too large")
        if not signed(secret, headers, body):
            if ssl_check(headers, body):
                return await _send(send, 200, b"")
            log.info("refused a request without a valid, fresh Slack signature")
            return await _send(send, 401, b"invalid or missing signature")
        request = bolt_request(body, scope["query_string"].decode("latin-1"), headers)
        if request is None:
            log.info("refused a signed request that is not a Slack payload (content-type %r)",
                     headers.get("content-type", "")[:100])
            return await _send(send, 400, b"not a Slack payload")
        if RETRY_HEADER in headers:
            response = await asyncio.get_running_loop().run_in_executor(
                None, app.dispatch, request)
        else:
            response = app.dispatch(request)
        content = (response.body.encode("utf-8") if isinstance(response.body, str)
                   else response.body)
        await send({"type": "http.response.start", "status": response.status, "headers": [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, values in response.headers.items() if k.lower() != "content-length"
            for v in values] + [(b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
        return None

    return handle


class HttpServer:
    """uvicorn on a socket bound at construction, so port 0 is known before serving."""

    def __init__(self, app: App | None, host: str, port: int, ready: Ready | None = None,
                 routes: Mapping[str, Asgi] | None = None) -> None:
        self._socket = socket.create_server((host, port), backlog=1024)
        self.server_port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(
            asgi_app(app, ready, routes), lifespan="off", access_log=False, log_config=None))

    def serve_forever(self) -> None:
        self._server.run(sockets=[self._socket])

    def shutdown(self) -> None:
        self._server.should_exit = True

    def server_close(self) -> None:
        self._socket.close()


def http_server(app: App | None, host: str = "0.0.0.0", port: int = 3000,
                ready: Ready | None = None, routes: Mapping[str, Asgi] | None = None
                ) -> HttpServer:
    """A bound (not yet serving) HTTP server; port 0 picks a free one."""
    return HttpServer(app, host, port, ready, routes)


def serve_in_thread(server: HttpServer) -> threading.Thread:
    """Serve from a daemon thread (tests, benchmarks); stop with `server.shutdown()`."""
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="slack-http")
    thread.start()
    return thread


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect out to Slack over a WebSocket (no public URL needed) and serve until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()


def _signing_secret(app: App) -> bytes:
    # The secret Bolt was built with: the edge checks the signature with it before Bolt (or
    # anything else) parses the body. Bolt keeps it only as this attribute.
    return (getattr(app, "_signing_secret", "") or "").encode()


async def _send(send: Send, status: int, body: bytes,
                content_type: bytes = b"text/plain") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
