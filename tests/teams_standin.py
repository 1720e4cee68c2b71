"""A Bot Connector stand-in on loopback: records every call and answers as scripted.

Give activities `"serviceUrl": standin.service_url` (replies go to the service URL of the
activity they answer) or build an `ApiClient(standin.service_url, ...)` for proactive sends.
Calls are named by operation:

    send                 POST   /v3/conversations/{id}/activities (a reply carries replyToId)
    reply                POST   /v3/conversations/{id}/activities/{activityId}
    update / delete      PUT / DELETE /v3/conversations/{id}/activities/{activityId}
    create_conversation  POST   /v3/conversations
    members              GET    /v3/conversations/{id}/members[/{memberId}]
    channels             GET    /v3/teams/{teamId}/conversations (from `standin.channels`)
    user_token           anything under /api/usertoken/ (404: nobody is signed in)
    other                anything else, answered `{}`

    standin.throttle("send", times=1, retry_after=2)   # one 429 with Retry-After: 2
    standin.fail("send", times=3)                       # three 500s, then the default reply
    standin.script("send", Reply(delay_s=2))            # accepted at once, answered late
    standin.script("send", Reply(drop=True))            # accepted, then the connection drops
    standin.go_down(); ...; standin.come_up()           # connections refused meanwhile
    [call] = standin.wait_for("send", count=1)

An accepted message is kept in `standin.activities[conversation_id]` with the id it was given.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

BOT_ID = "28:ssot-bot"
TENANT_ID = "tenant-0001"
# Message ids are epoch milliseconds in Teams; a channel thread id is built from one.
FIRST_ID = 1_770_000_000_000


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `body=None` means the operation's default successful body.

    `delay_s`: the call takes effect at once, but the answer is only sent this much later.
    `drop`: the call takes effect, then the connection is closed with no answer at all.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Call:
    """A request the stand-in received, and the status it was answered with."""

    operation: str
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def authorization(self) -> str | None:
        """The Authorization header, or None when the call carried none."""
        return self.headers.get("authorization")

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards attached to the posted activity."""
        attachments = self.body.get("attachments") or [] if isinstance(self.body, dict) else []
        return [a["content"] for a in attachments
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]


class TeamsStandIn:
    """The Bot Connector service on a free loopback port, served from a background thread."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.activities: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.members: dict[str, list[dict[str, Any]]] = {}  # conversation id -> its members
        self.channels: dict[str, list[dict[str, Any]]] = {}  # team id -> [{id, name}]
        # Microsoft Graph, under `graph_url`: user object id -> its groups, as Graph lists them.
        self.groups: dict[str, list[dict[str, Any]]] = {}
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._changed = threading.Condition()
        self._ids = itertools.count(FIRST_ID)
        self._conversations = itertools.count(1)
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._address = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()  # guards going down and coming up
        self._open: set[socket.socket] = set()  # connections being served, closed when down

    @property
    def service_url(self) -> str:
        """What activities carry as `serviceUrl`."""
        host, port = self._address
        return f"http://{host}:{port}/teams/"

    @property
    def graph_url(self) -> str:
        """Where Microsoft Graph is served (TEAMS_GRAPH_URL)."""
        host, port = self._address
        return f"http://{host}:{port}/graph"

    def start(self) -> TeamsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.go_down()

    def go_down(self) -> None:
        """Stop listening and drop open connections: all are refused until `come_up()`."""
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
            for connection in list(self._open):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def come_up(self) -> None:
        """Listen again on the same port."""
        with self._lock:
            if self._server is None and not self._stopping.is_set():
                self._server = _Server(self._address, _handler_for(self))
                self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
                self._thread.start()

    def script(self, operation: str, *replies: Reply) -> None:
        """Answer the next calls to `operation` with these replies, in order, then the default."""
        with self._changed:
            self._scripts[operation].extend(replies)

    def fail(self, operation: str, times: int, status: int = 500) -> None:
        """Answer the next `times` calls to `operation` with a server error."""
        body = {"error": {"code": "ServiceError", "message": "Internal server error"}}
        self.script(operation, *[Reply(status, body)] * times)

    def throttle(self, operation: str, times: int, retry_after: int = 1) -> None:
        """Answer the next `times` calls to `operation` with 429 and a Retry-After header."""
        body = {"error": {"code": "Throttled", "message": "Too many requests"}}
        self.script(operation, *[Reply(429, body, {"Retry-After": str(retry_after)})] * times)

    def calls_to(self, operation: str) -> list[Call]:
        """Every call so far to `operation` (successful or not), oldest first."""
        with self._changed:
            return [c for c in self.calls if c.operation == operation]

    def delivered(self, operation: str) -> list[Call]:
        """The calls to `operation` that were answered with a 2xx."""
        return [c for c in self.calls_to(operation) if 200 <= c.status < 300]

    def wait_for(self, operation: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Block until `count` calls to `operation` arrived; fails the test on timeout."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: sum(c.operation == operation for c in self.calls) >= count, timeout)
            found = [c for c in self.calls if c.operation == operation]
        if not ok:
            seen = sorted({c.operation for c in self.calls})
            raise AssertionError(f"expected {count} call(s) to {operation}, got {len(found)}; "
                                 f"operations seen: {seen}")
        return found

    def clear(self) -> None:
        """Forget recorded calls, kept activities and pending scripts."""
        with self._changed:
            self.calls.clear()
            self.activities.clear()
            self._scripts.clear()

    def _answer(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        operation, conversation, activity = _route(method, path)
        with self._changed:
            queue = self._scripts.get(operation)
            reply = queue.popleft() if queue else Reply()
            if reply.body is None and reply.status < 300:
                status, default = self._default(operation, conversation, activity, body)
                reply = Reply(status, default, reply.headers, reply.delay_s, reply.drop)
            self.calls.append(Call(operation, method, path, conversation, activity, body,
                                   headers, reply.status))
            self._changed.notify_all()
        return reply

    def _default(self, operation: str, conversation: str | None, activity: str | None,
                 body: Any) -> tuple[int, Any]:
        if operation in ("send", "reply") and isinstance(body, dict):
            if body.get("type") == "typing":
                return 200, {}  # as the service does: a typing activity gets no id
            new_id = str(next(self._ids))
            kept = {**body, "id": new_id}
            if operation == "reply":
                kept.setdefault("replyToId", activity)
            self.activities[conversation or ""].append(kept)
            return 200, {"id": new_id}
        if operation == "update":
            return 200, {"id": activity}
        if operation == "create_conversation":
            created = f"a:standin-conversation-{next(self._conversations)}"
            answer: dict[str, Any] = {"id": created, "serviceUrl": self.service_url}
            if isinstance(body, dict) and body.get("activity"):
                answer["activityId"] = str(next(self._ids))
                self.activities[created].append({**body["activity"], "id": answer["activityId"]})
            return 201, answer
        if operation == "members":
            return 200, self.members.get(conversation or "", [])
        if operation == "channels":
            if conversation not in self.channels:
                return 404, {"error": {"code": "NotFound", "message": "no such team"}}
            return 200, {"conversations": self.channels[conversation]}
        if operation == "member_of":
            if conversation not in self.groups:
                return 404, {"error": {"code": "Request_ResourceNotFound",
                                       "message": "no such user"}}
            return 200, {"value": self.groups[conversation]}
        if operation == "user_token":
            return 404, {"error": {"code": "NotFound", "message": "no token"}}
        return 200, {}


def _route(method: str, path: str) -> tuple[str, str | None, str | None]:
    """(operation, conversation id, activity id) for a request path under the service URL."""
    parts = [unquote(p) for p in urlsplit(path).path.split("/") if p]
    if "usertoken" in parts:
        return "user_token", None, None
    if parts[:3] == ["graph", "v1.0", "users"] and "transitiveMemberOf" in parts:
        return "member_of", parts[3], None
    if "v3" not in parts:
        return "other", None, None
    rest = parts[parts.index("v3") + 1:]
    if len(rest) == 3 and rest[0] == "teams" and rest[2] == "conversations":
        return "channels", rest[1], None
    if rest == ["conversations"] and method == "POST":
        return "create_conversation", None, None
    if len(rest) < 2 or rest[0] != "conversations":
        return "other", None, None
    conversation, tail = rest[1], rest[2:]
    if tail[:1] in (["members"], ["pagedmembers"]):
        return "members", conversation, None
    if tail == ["activities"] and method == "POST":
        return "send", conversation, None
    if len(tail) == 2 and tail[0] == "activities":
        operation = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(method, "other")
        return operation, conversation, tail[1]
    return "other", conversation, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that exits with its kept-alive connection open resets it: routine.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(standin: TeamsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response: written piecemeal on a kept-alive connection, Nagle's
        # algorithm and the client's delayed ACK hold the body for 40 ms.
        wbufsize = 64 * 1024

        def setup(self) -> None:
            super().setup()
            standin._open.add(self.connection)

        def finish(self) -> None:
            standin._open.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            reply = standin._answer(self.command, self.path, body, headers)
            if reply.delay_s:
                standin._stopping.wait(reply.delay_s)
            if reply.drop:
                self.close_connection = True
                return
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_GET = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the recorded calls are the log; stderr noise hides test output

    return Handler
