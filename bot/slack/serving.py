"""Run the app: an HTTP server (`POST /slack/events`, `GET /healthz`) or Socket Mode.

Over HTTP the app runs under uvicorn, on one event loop with a C HTTP parser. Bolt's
dispatch only verifies, routes and acknowledges (the answers run on `Background`'s threads),
so it runs on the loop itself: a burst of requests costs a parse and a dispatch each, with no
hand-off to a thread between them. The one dispatch that waits on something is a redelivered
event, which waits for its claim in the state store (`once.py`): it runs on a thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable

import uvicorn
from slack_bolt import App
from slack_bolt.request import BoltRequest

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000
RETRY_HEADER = "x-slack-retry-num"

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def asgi_app(app: App) -> Callable[[dict, Receive, Send], Awaitable[None]]:
    """The ASGI callable: Bolt's own request dispatch behind two routes."""

    async def handle(scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return None
        method, path = scope["method"], scope["path"]
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return await _send(send, 200, b"ok")
        if path != EVENTS_PATH:
            return await _send(send, 404, b"not found")
        if method != "POST":
            return await _send(send, 405, b"method not allowed")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = await _body(receive, int(headers.get("content-length") or 0))
        if body is None:
            return await _send(send, 413, b"too large")
        request = BoltRequest(body=body.decode("utf-8", errors="replace"),
                              query=scope["query_string"].decode("latin-1"), headers=headers)
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

    def __init__(self, app: App, host: str, port: int) -> None:
        self._socket = socket.create_server((host, port), backlog=1024)
        self.server_port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(
            asgi_app(app), lifespan="off", access_log=False, log_config=None))

    def serve_forever(self) -> None:
        self._server.run(sockets=[self._socket])

    def shutdown(self) -> None:
        self._server.should_exit = True

    def server_close(self) -> None:
        self._socket.close()


def http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> HttpServer:
    """A bound (not yet serving) HTTP server; port 0 picks a free one."""
    return HttpServer(app, host, port)


def serve_in_thread(server: HttpServer) -> threading.Thread:
    """Serve from a daemon thread (tests, benchmarks); stop with `server.shutdown()`."""
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="slack-http")
    thread.start()
    return thread


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect out to Slack over a WebSocket (no public URL needed) and serve until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()


async def _body(receive: Receive, declared: int) -> bytes | None:
    """The request body, or None once it is over MAX_BODY (declared or actually sent)."""
    if declared > MAX_BODY:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
