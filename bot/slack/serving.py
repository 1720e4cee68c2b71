"""Run the app: a threaded HTTP server (`POST /slack/events`, `GET /healthz`) or Socket Mode."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.request import BoltRequest

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1_000_000


def wsgi_app(app: App):
    """The WSGI callable: Bolt's own request dispatch behind two routes."""

    def handle(environ: dict, start_response) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _send(start_response, 200, b"ok")
        if path != EVENTS_PATH:
            return _send(start_response, 404, b"not found")
        if method != "POST":
            return _send(start_response, 405, b"method not allowed")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _send(start_response, 413, b"too large")
        body = environ["wsgi.input"].read(length).decode("utf-8", errors="replace")
        response = app.dispatch(BoltRequest(body=body, query=environ.get("QUERY_STRING", ""),
                                            headers=_headers(environ)))
        headers = [(k, v) for k, values in response.headers.items() for v in values]
        start_response(f"{response.status} {_REASONS.get(response.status, 'OK')}", headers)
        return [response.body.encode("utf-8") if isinstance(response.body, str)
                else response.body]

    return handle


class PooledServer(WSGIServer):
    """A fixed pool of handler threads fed by the accept loop.

    A thread per connection makes the accept loop start a thread, and wait for it to run,
    for every request: under a burst that queues the later acknowledgements behind thread
    start-ups. Pre-started threads take accepted sockets from a queue instead.
    """

    # A burst of simultaneous connections must queue in the kernel, not be refused.
    request_queue_size = 1024
    threads = 32
    socket_timeout_s = 10.0  # a client that stops sending frees its handler thread

    def server_activate(self) -> None:
        super().server_activate()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        for n in range(self.threads):
            threading.Thread(target=self._work, daemon=True, name=f"http-{n}").start()

    def process_request(self, request, client_address) -> None:
        self._queue.put((request, client_address))

    def _work(self) -> None:
        while True:
            request, client_address = self._queue.get()
            try:
                request.settimeout(self.socket_timeout_s)
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # A client that hung up or timed out is routine; Bolt logs its own errors.
        log.info("connection from %s failed", client_address[0], exc_info=True)


class QuietHandler(WSGIRequestHandler):
    # Buffered: wsgiref writes the status line and each header separately, one syscall each.
    wbufsize = 64 * 1024

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def http_server(app: App, host: str = "0.0.0.0", port: int = 3000) -> PooledServer:
    """A bound (not yet serving) HTTP server; port 0 picks a free one."""
    return make_server(host, port, wsgi_app(app), server_class=PooledServer,
                       handler_class=QuietHandler)


def serve_in_thread(server: PooledServer) -> threading.Thread:
    """Serve from a daemon thread (tests, benchmarks); stop with `server.shutdown()`."""
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="slack-http")
    thread.start()
    return thread


def serve_socket_mode(app: App, app_token: str) -> None:
    """Connect out to Slack over a WebSocket (no public URL needed) and serve until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()


def _headers(environ: dict) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _send(start_response, status: int, body: bytes) -> list[bytes]:
    start_response(f"{status} {_REASONS[status]}", [("Content-Type", "text/plain"),
                                                     ("Content-Length", str(len(body)))])
    return [body]


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error"}
