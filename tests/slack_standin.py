"""A Slack Web API stand-in on loopback: records every call and answers as scripted.

Point `WebClient(base_url=standin.api_url)` at it. Any path outside `/api/` is accepted as a
response_url, so tests can hand the bot response_urls from `standin.response_url(name)`.

    standin.script("chat.postMessage", Reply(429, headers={"Retry-After": "1"}), Reply())
    standin.fail("chat.postMessage", times=3)          # three 500s, then the default reply
    standin.script("chat.postMessage", Reply(delay_s=2))  # posted at once, answered late
    standin.script("chat.postMessage", Reply(drop=True))  # posted, then the connection drops
    standin.channel_errors["C0GONE"] = "not_in_channel"  # every post there is refused
    calls = standin.wait_for("chat.postMessage", count=2)

A successful chat.postMessage adds the message to its channel, and conversations.history
serves each channel's messages (newest first, with their metadata when asked for it).

Files go up as Slack's upload v2 flow has them: files.getUploadURLExternal hands out a URL on
the stand-in (its calls are recorded as method `upload`), the bytes are POSTed there, and
files.completeUploadExternal shares them, adding an `Upload` to `standin.uploads`:

    standin.fail("upload", times=1)                     # the bytes are refused once
    [upload] = standin.wait_for_uploads(1)             # filename, content, channel, thread_ts
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


@dataclass(frozen=True)
class Reply:
    """One scripted answer; `body=None` means the method's default successful body.

    `delay_s`: the call takes effect (a post is in the channel) at once, but the answer is
    only sent this much later, as when Slack accepts a post after the client gave up waiting.
    `drop`: the call takes effect, then the connection is closed with no answer at all.
    """

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Call:
    """A request the stand-in received: `method` is the API method or the response_url path."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)  # arrival, for latency benchmarks
    connection: int = 0  # which client connection it came on (1, 2, ...)

    def value(self, name: str) -> Any:
        """A body field, decoding the JSON strings that form-encoded calls carry (e.g. blocks)."""
        return _decoded(self.body.get(name))


@dataclass(frozen=True)
class Upload:
    """A file shared by files.completeUploadExternal: what was sent, and where it went."""

    file_id: str
    filename: str
    title: str | None
    alt_txt: str | None
    content: bytes
    channel: str | None
    thread_ts: str | None


class SlackStandIn:
    """The Web API on a free loopback port, served from a background thread."""

    def __init__(self, idle_timeout_s: float | None = None) -> None:
        """`idle_timeout_s`: close a kept-alive connection idle this long, as servers do."""
        self.idle_timeout_s = idle_timeout_s
        self.socket_url: str | None = None  # what apps.connections.open hands out
        self.channels: dict[str, str] = {}  # channel id -> name, for conversations.info
        self.user_groups: dict[str, list[str]] = {}  # handle -> member ids, for usergroups.list
        # channel id -> the error chat.postMessage and conversations.history get there
        self.channel_errors: dict[str, str] = {}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # posted, oldest first
        self.uploads: list[Upload] = []  # shared files, oldest first
        self._files: dict[str, dict[str, Any]] = {}  # file id -> its upload so far
        self._stopping = threading.Event()
        self.calls: list[Call] = []
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._connections = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """What `SLACK_API_BASE_URL` should be set to."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "default") -> str:
        """A response_url whose POSTs are recorded under method `response/<name>`."""
        return f"{self.base_url}/response/{name}"

    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, method: str, *replies: Reply) -> None:
        """Answer the next calls to `method` with these replies, in order, then the default."""
        with self._changed:
            self._scripts[method].extend(replies)

    def fail(self, method: str, times: int, status: int = 500) -> None:
        """Answer the next `times` calls to `method` with a server error."""
        self.script(method, *[Reply(status, {"ok": False, "error": "internal_error"})] * times)

    def calls_to(self, method: str) -> list[Call]:
        """Every call so far to `method` (successful or not), oldest first."""
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def delivered(self, method: str) -> list[Call]:
        """The calls to `method` that were answered with a 200."""
        return [c for c in self.calls_to(method) if c.status == 200]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Block until `count` calls to `method` arrived; fails the test on timeout."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: sum(c.method == method for c in self.calls) >= count, timeout)
            found = [c for c in self.calls if c.method == method]
        if not ok:
            seen = sorted({c.method for c in self.calls})
            raise AssertionError(f"expected {count} call(s) to {method}, got {len(found)}; "
                                 f"methods seen: {seen}")
        return found

    def wait_for_uploads(self, count: int = 1, timeout: float = 30.0) -> list[Upload]:
        """Block until `count` files were shared; fails the test on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.uploads) >= count, timeout):
                raise AssertionError(f"expected {count} upload(s), got {len(self.uploads)}; "
                                     f"methods seen: {sorted({c.method for c in self.calls})}")
            return list(self.uploads)

    def clear(self) -> None:
        """Forget recorded calls, shared files and pending scripts."""
        with self._changed:
            self.calls.clear()
            self.uploads.clear()
            self._scripts.clear()

    def _answer(self, method: str, path: str, body: dict, headers: dict,
                connection: int) -> Reply:
        with self._changed:
            queue = self._scripts.get(method)
            reply = queue.popleft() if queue else Reply()
            if reply.body is None:
                default = self._default_body(method, body)
                status = 404 if method == "upload" and not default["ok"] else reply.status
                reply = Reply(status, default, reply.headers, reply.delay_s, reply.drop)
            if method == "chat.postMessage" and reply.status == 200 and reply.body.get("ok"):
                self._post(body, reply.body)
            if method == "upload" and reply.status == 200 and reply.body.get("ok"):
                self._files[body["file_id"]]["content"] = body["content"]
            if (method == "files.completeUploadExternal" and reply.status == 200
                    and reply.body.get("ok")):
                self._share(body)
            self.calls.append(Call(method, path, body, headers, reply.status,
                                   connection=connection))
            self._changed.notify_all()
        return reply

    def _post(self, body: dict, answer: dict) -> None:
        message = {"type": "message", "ts": answer["ts"], "user": BOT_USER_ID,
                   "bot_id": BOT_ID, "text": body.get("text")}
        for name in ("blocks", "thread_ts", "metadata"):
            if body.get(name) is not None:
                message[name] = _decoded(body[name])
        self.messages[body.get("channel", "")].append(message)

    def _upload_url(self, body: dict) -> dict[str, Any]:
        if not body.get("filename") or not str(body.get("length") or "").isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self._files[file_id] = {"filename": body["filename"], "alt_txt": body.get("alt_txt"),
                                "length": int(body["length"]), "content": None}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def _completion(self, body: dict) -> dict[str, Any]:
        files = _decoded(body.get("files")) or []
        known = [self._files.get(f.get("id")) for f in files]
        if not files or any(f is None or f["content"] is None for f in known):
            return {"ok": False, "error": "file_not_found"}  # never asked for, or not sent
        if any(len(f["content"]) != f["length"] for f in known):
            return {"ok": False, "error": "file_upload_size_mismatch"}
        refused = self.channel_errors.get(body.get("channel_id", ""))
        if refused:
            return {"ok": False, "error": refused}
        return {"ok": True, "files": [
            {"id": f["id"], "name": k["filename"], "title": f.get("title") or k["filename"]}
            for f, k in zip(files, known, strict=True)]}

    def _share(self, body: dict) -> None:
        for shared in _decoded(body["files"]):
            known = self._files[shared["id"]]
            self.uploads.append(Upload(shared["id"], known["filename"], shared.get("title"),
                                       known["alt_txt"], known["content"],
                                       body.get("channel_id"), body.get("thread_ts")))

    def _history(self, body: dict) -> dict[str, Any]:
        oldest, latest = float(body.get("oldest") or 0), float(body.get("latest") or "inf")
        limit, start = int(body.get("limit") or 100), int(body.get("cursor") or 0)
        found = [dict(m) for m in reversed(self.messages.get(body.get("channel", ""), []))
                 if oldest < float(m["ts"]) <= latest]
        if body.get("include_all_metadata") not in ("1", "true", True):
            for message in found:
                message.pop("metadata", None)
        page, more = found[start:start + limit], start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _default_body(self, method: str, body: dict) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Example",
                    "user": "ssot", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}
        refused = self.channel_errors.get(body.get("channel", ""))
        if refused and method in ("chat.postMessage", "conversations.history"):
            return {"ok": False, "error": refused}
        if method == "conversations.history":
            return self._history(body)
        if method == "files.getUploadURLExternal":
            return self._upload_url(body)
        if method == "files.completeUploadExternal":
            return self._completion(body)
        if method == "upload" and body.get("file_id") not in self._files:
            return {"ok": False, "error": "file_not_found"}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            # Now, as Slack's are: a bot looks its messages up by time (`oldest`).
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts,
                    "message_ts": ts, "message": {"text": body.get("text"), "ts": ts}}
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        if method == "conversations.info":
            name = self.channels.get(body.get("channel", ""))
            if name is None:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": body["channel"], "name": name}}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": [
                {"id": f"S{n:04d}", "handle": handle, "users": users, "date_delete": 0}
                for n, (handle, users) in enumerate(self.user_groups.items())]}
        if method == "users.info":
            return {"ok": True, "user": {"id": body.get("user"), "name": "someone",
                                         "is_bot": False}}
        if method == "users.conversations":
            return {"ok": True, "channels": [], "response_metadata": {"next_cursor": ""}}
        return {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that exits with its kept-alive connection open resets it: routine.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response, as real servers do: written piecemeal on a kept-alive
        # connection, Nagle's algorithm and the client's delayed ACK hold the body for 40 ms.
        wbufsize = 64 * 1024
        timeout = standin.idle_timeout_s

        def setup(self) -> None:
            super().setup()
            self.connection_number = next(standin._connections)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            api = path.startswith("/api/")
            method = path.removeprefix("/api/") if api else path.strip("/")
            if path.startswith("/upload/"):  # a file's bytes, sent as they are
                method, body = "upload", {"file_id": path.removeprefix("/upload/"),
                                          "content": raw}
            else:
                body = _parse(raw, headers)
            reply = standin._answer(method, path, body, headers, self.connection_number)
            if reply.delay_s:
                standin._stopping.wait(reply.delay_s)
            if reply.drop:
                self.close_connection = True
                return
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the recorded calls are the log; stderr noise hides test output

    return Handler


def _decoded(value: Any) -> Any:
    """A body field, with the JSON that form-encoded calls carry as a string decoded."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _parse(raw: bytes, headers: dict[str, str]) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace")
    if not text:
        return {}
    if "json" in headers.get("content-type", ""):
        return json.loads(text)
    return dict(parse_qsl(text, keep_blank_values=True))
