"""Soak the Slack app: questions for ten minutes while faults come and go, one at a time.

One `ssot serve --http` process on loopback answers about two questions a second (@mentions,
/define, /metric and button clicks, signed as Slack signs them) while the run injects these
faults, each for an equal slice, between a normal slice at the start and one at the end:

1. a locked state store: another connection holds SQLite's write lock (BEGIN IMMEDIATE);
2. a locked warehouse: another PostgreSQL session holds ACCESS EXCLUSIVE on two tables;
3. a black-holed warehouse: the TCP proxy in front of it accepts but forwards nothing;
4. a slow Web API: conversations.info answers after 20 s, and mentions come from new channels;
5. glossary edits: two valid ones (each announced once to every subscribed channel), then a
   broken one (a status that does not exist, a directory named like a term file), then fixed;
6. a burst of junk requests to /slack/events: unsigned, forged, stale, malformed, huge.

Printed at the end, before the server stops: questions sent and answered (a reply reached
the Web API stand-in: in the asked thread for a mention, at the response_url for a command or
a click), answers later than 3 s per slice (also without the first late one of each warehouse
slice: it waited for the breaker to trip), notifications queued, delivered, delivered twice
and still pending, what /readyz said mid-slice, and the tracebacks in the server's log per
slice (the first one is printed in full).

The warehouse is a fresh database on the local PostgreSQL service (SOAK_POSTGRES_URL, by
default postgresql+psycopg://postgres@127.0.0.1:5432/), filled with the demo data and dropped
at the end.

Run: .venv/bin/python benchmarks/soak.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from tests.slack_requests import SlackSender, event_callback  # noqa: E402
from tests.slack_standin import Reply, SlackStandIn  # noqa: E402

SECRET = "soak-signing-secret"
AS_OF = dt.date(2026, 11, 15)
POSTGRES = os.environ.get("SOAK_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
RATE = 2.0  # questions a second
LATE_S = 3.0
DRAIN_S = 30.0  # how long answers and notifications may take after the last question
SLOW_LOOKUP_S = 20.0
SUBSCRIBERS = ("C0SUB1", "C0SUB2", "C0SUB3")
CHANNELS = {"C0GENERAL": "general", "C0SALES": "sales", "C0MARKETING": "marketing",
            "C0REVOPS": "revops"}
NOTICE = "ssot_definition_change"
SHOWN = 4  # late or unanswered questions listed per slice
LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

MENTIONS = (
    "what is an MQL?", "win rate last quarter", "how do I reset my vpn password",
    "what's the difference between a SAL and an SQL?", "bookings this quarter by region",
    "how is pipeline coverage calculated?", "what does ARR mean?",
    "average deal size this year by segment", "who owns the definition of net revenue retention?",
    "what counts as closed won?", "how many MQLs did we get last month?", "what is our ICP?",
    "sales cycle length last quarter", "can I expense my home office chair?",
)
DEFINES = ("pipeline coverage", "mql", "arr", "icp", "sales cycle length",
           "mql as of 2026-01-01", "churn", "widget velocity")
METRICS = ("bookings this quarter by region", "win rate last quarter",
           "pipeline coverage this quarter by segment", "mql count last month",
           "average deal size this year", "open pipeline by region")
BUTTONS = (
    ("feedback_not_helpful", {"via": "ask", "text": "what is an MQL?", "answer_id": "mql"}),
    ("feedback_helpful", {"via": "define", "text": "pipeline coverage",
                          "answer_id": "pipeline_coverage"}),
    ("show_sql", {"via": "metric", "text": "win rate last quarter"}),
    ("related_term_sal", "sal"),
)
CYCLE = ("mention", "define", "mention", "metric", "button", "mention")
# The valid glossary edits: a file, a phrase of its definition and what replaces it.
EDITS = (("terms/mql.md", "65 or more", "70 or more"),
         ("terms/sql.md", "a real need", "a genuine need"))


# The questions ----------------------------------------------------------------------------

@dataclass
class Question:
    """One question sent, and when (if ever) its reply reached the stand-in."""

    n: int
    kind: str
    text: str
    slice: int
    key: str  # where its reply lands: "response/<name>", or "<channel> <thread ts>"
    sent: float = 0.0
    sent_at: float = 0.0  # wall clock, to find the moment in the server's log
    status: int = 0
    acked: float = 0.0
    answered: float | None = None
    reply: str = ""

    @property
    def latency(self) -> float | None:
        return None if self.answered is None else self.answered - self.sent


class Traffic:
    """Sends questions at RATE, from a pool, so that a slow acknowledgement never slows it."""

    def __init__(self, sender: SlackSender, api: SlackStandIn) -> None:
        self.sender, self.api = sender, api
        self.questions: list[Question] = []
        self.fresh_channels = False  # mentions come from channels the server has never seen
        self._turns: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(16, thread_name_prefix="asker")

    def send_due(self, started: float, slice_index: int) -> None:
        """Send every question due by now, RATE a second since `started`."""
        due = int((time.monotonic() - started) * RATE) + 1
        while len(self.questions) < due:
            question = self._next(len(self.questions), slice_index)
            self.questions.append(question)
            self._pool.submit(self._send, question)

    def finish(self) -> None:
        self._pool.shutdown(wait=True)

    def _next(self, n: int, slice_index: int) -> Question:
        kind = CYCLE[n % len(CYCLE)]
        turn = self._turns[kind]
        self._turns[kind] += 1
        if kind == "mention":
            channel = (f"C0NEW{n:05d}" if self.fresh_channels
                       else list(CHANNELS)[turn % len(CHANNELS)])
            key = f"{channel} {int(time.time())}.{n:06d}"
            return Question(n, kind, MENTIONS[turn % len(MENTIONS)], slice_index, key)
        if kind == "button":
            action, value = BUTTONS[turn % len(BUTTONS)]
            text = f"{action} {value if isinstance(value, str) else json.dumps(value)}"
            return Question(n, kind, text, slice_index, f"response/q{n}")
        texts = DEFINES if kind == "define" else METRICS
        return Question(n, kind, f"/{kind} {texts[turn % len(texts)]}", slice_index,
                        f"response/q{n}")

    def _send(self, q: Question) -> None:
        q.sent, q.sent_at = time.monotonic(), time.time()
        try:
            q.status = self._post(q)
        except (OSError, http.client.HTTPException) as exc:
            q.status, q.reply = -1, f"not sent: {exc}"
        q.acked = time.monotonic()

    def _post(self, q: Question) -> int:
        url = self.api.response_url(q.key.removeprefix("response/"))
        if q.kind == "mention":
            channel, ts = q.key.split()
            if channel not in CHANNELS and channel not in self.api.channels:
                self.api.channels[channel] = f"new-{q.n}"
                self.api.script("conversations.info", Reply(delay_s=SLOW_LOOKUP_S))
            return self.sender.event({"type": "app_mention", "user": "U0ALICE",
                                      "channel": channel, "text": f"<@UBOT> {q.text}",
                                      "ts": ts, "event_ts": ts})[0]
        if q.kind == "button":
            action, value = q.text.split(" ", 1)
            return self.sender.button(action, value, url, channel="C0GENERAL")[0]
        command, text = q.text.split(" ", 1)
        return self.sender.command(command, text, url, channel="C0GENERAL")[0]


def collect_answers(api: SlackStandIn, questions: list[Question]) -> None:
    """Match each question with the first reply that reached the stand-in where it belongs."""
    first = {}
    for call in list(api.calls):
        if call.method in ("chat.postMessage", "chat.postEphemeral"):
            key = f"{call.body.get('channel')} {call.body.get('thread_ts')}"
        elif call.method.startswith("response/"):
            key = call.method
        else:
            continue
        first.setdefault(key, call)
    for q in questions:
        call = first.get(q.key)
        if call is not None and q.answered is None:
            q.answered, q.reply = call.at, str(call.body.get("text") or "")


# The faults -------------------------------------------------------------------------------

class Fault:
    """What one slice does to the server: `start`, `tick(share of the slice gone)`, `stop`."""

    name = "normal"
    warehouse = False  # a warehouse fault: its first late answer is the breaker tripping

    def start(self) -> None:
        """Begin the fault."""

    def tick(self, fraction: float) -> None:
        """Called often during the slice."""

    def stop(self) -> None:
        """End the fault; the server should recover by itself."""


class StoreLock(Fault):
    """Another connection holds the state store's write lock for the whole slice."""

    name = "locked state store"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def start(self) -> None:
        self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def stop(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


class WarehouseLock(Fault):
    """Another session holds ACCESS EXCLUSIVE on the busiest tables: their queries block."""

    name = "locked warehouse"
    warehouse = True

    def __init__(self, url: sa.URL) -> None:
        self.engine = sa.create_engine(url, poolclass=NullPool)
        self.conn: sa.Connection | None = None

    def start(self) -> None:
        self.conn = self.engine.connect()
        self.conn.execute(sa.text("LOCK TABLE opportunities, leads IN ACCESS EXCLUSIVE MODE"))

    def stop(self) -> None:
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


class Proxy:
    """A loopback TCP proxy to the warehouse; while `flowing` is clear it forwards nothing.

    Black-holed, it still accepts connections and holds them open, and keeps every byte
    (an end of stream included) until it flows again, as a network partition that heals.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.flowing = threading.Event()
        self.flowing.set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="proxy").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                if self._server.fileno() < 0:
                    return
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self.flowing.wait()
                sink.sendall(data)
        self.flowing.wait()
        for each in (source, sink):  # shutdown wakes the other direction's recv
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()

    def close(self) -> None:
        self.flowing.set()
        self._server.close()


class BlackHole(Fault):
    """The warehouse proxy stops forwarding in both directions and holds its connections."""

    name = "black-holed warehouse"
    warehouse = True

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def start(self) -> None:
        self.proxy.flowing.clear()

    def stop(self) -> None:
        self.proxy.flowing.set()


class SlowWebApi(Fault):
    """Mentions come from new channels, whose name lookups answer after SLOW_LOOKUP_S."""

    name = "slow Web API"

    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic

    def start(self) -> None:
        self.traffic.fresh_channels = True

    def stop(self) -> None:
        self.traffic.fresh_channels = False


class GlossaryEdits(Fault):
    """Two valid edits, then a broken glossary (bad status, a directory named x.md), then fixed."""

    name = "glossary edits"

    def __init__(self, glossary: Path) -> None:
        self.glossary = glossary
        self.pipeline = glossary / "terms" / "pipeline.md"
        self.original = self.pipeline.read_text()
        self._steps: list[tuple[float, Callable[[], None]]] = [
            (0.1, lambda: self._edit(*EDITS[0])), (0.3, lambda: self._edit(*EDITS[1])),
            (0.5, self._break), (0.75, self._fix)]

    def tick(self, fraction: float) -> None:
        while self._steps and self._steps[0][0] <= fraction:
            self._steps.pop(0)[1]()

    def stop(self) -> None:
        self.tick(1.0)  # whatever is left runs: the glossary ends valid

    def _edit(self, name: str, old: str, new: str) -> None:
        text = (self.glossary / name).read_text()
        if old not in text:
            sys.exit(f"{name} no longer says '{old}': update EDITS in {Path(__file__).name}")
        text = re.sub(r'^version: "(\d+)\.(\d+)"',
                      lambda m: f'version: "{m[1]}.{int(m[2]) + 1}"', text, count=1, flags=re.M)
        self._write(self.glossary / name, text.replace(old, new, 1))

    def _break(self) -> None:
        self._write(self.pipeline, self.original.replace("status: approved", "status: finalised"))
        (self.glossary / "terms" / "x.md").mkdir()

    def _fix(self) -> None:
        self._write(self.pipeline, self.original)
        (self.glossary / "terms" / "x.md").rmdir()

    def _write(self, path: Path, text: str) -> None:
        # Renamed into place: the sync every 2 s must never read half a file.
        spare = self.glossary.parent / f".{path.name}.new"
        spare.write_text(text)
        os.replace(spare, path)


class JunkBurst(Fault):
    """Several hundred requests to /slack/events that Slack would never send, eight at a time."""

    name = "junk requests"

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: dict[str, Counter[int]] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._burst, daemon=True, name="junk")
        self._thread.start()

    def stop(self) -> None:
        self._thread.join()

    def _burst(self) -> None:
        requests = junk_requests()
        with ThreadPoolExecutor(8) as pool:
            answers = pool.map(lambda r: raw_post(self.url, r[1], r[2]), requests)
            for (label, _, _), status in zip(requests, answers, strict=True):
                self.statuses.setdefault(label, Counter())[status] += 1


def sign(body: bytes, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 signature headers over raw bytes, with any timestamp text at all."""
    stamp = str(int(time.time())) if stamp is None else stamp
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def junk_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    """(label, body, headers) for each junk request: small ones often, huge ones twice."""
    as_json, as_form = {"Content-Type": "application/json"}, {
        "Content-Type": "application/x-www-form-urlencoded"}
    mention = json.dumps(event_callback({"type": "app_mention", "user": "U0JUNK",
                                         "channel": "C0JUNK", "text": "<@UBOT> hi",
                                         "ts": "1700000000.000001"})).encode()
    signed_json = {
        "[1]": b"[1]", "null": b"null", "{}": b"{}", "a string": b'"hello"', "a number": b"42",
        "deeply nested list": b"[" * 100_000 + b"]" * 100_000,
        "deeply nested object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        "event not an object": json.dumps({"type": "event_callback", "event": "hi"}).encode(),
        "event fields of the wrong type": json.dumps(event_callback({
            "type": "app_mention", "text": 123, "channel": ["C0JUNK"], "user": {}})).encode(),
        "not UTF-8": b'{"type": "\xff\xfe"}',
        "truncated JSON": mention[:40],
    }
    signed_form = {
        "form payload not JSON": urlencode({"payload": "not json {"}).encode(),
        "form payload a list": urlencode({"payload": "[1, 2]"}).encode(),
        "actions not a list": urlencode({"payload": json.dumps({
            "type": "block_actions", "actions": "click", "response_url": "x"})}).encode(),
        "command without response_url": urlencode({"command": "/define", "text": "mql"}).encode(),
    }
    stamps = {"timestamp 'abc'": "abc", "timestamp empty": "", "timestamp 1e9": "1e9",
              "timestamp full-width digits": "１７００００００００", "timestamp -1": "-1",
              "timestamp 30 digits": "9" * 30,
              "timestamp an hour old": str(int(time.time()) - 3600)}
    small = [("unsigned", mention, as_json),
             ("bad signature", mention, {**as_json, "X-Slack-Request-Timestamp": str(int(
                 time.time())), "X-Slack-Signature": "v0=" + "0" * 64}),
             ("another app's secret", mention, {**as_json, **sign(mention, secret="other")}),
             ("signed text/plain", mention, {"Content-Type": "text/plain", **sign(mention)})]
    small += [(f"signed JSON: {k}", v, {**as_json, **sign(v)}) for k, v in signed_json.items()]
    small += [(f"signed form: {k}", v, {**as_form, **sign(v)}) for k, v in signed_form.items()]
    small += [(k, mention, {**as_json, **sign(mention, v)}) for k, v in stamps.items()]
    return small * 16 + huge_requests() * 2


def huge_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    """Bodies over and just under the server's 1 MB limit."""
    question = json.dumps(event_callback({
        "type": "app_mention", "user": "U0JUNK", "channel": "C0JUNK", "ts": "1700000000.000002",
        "text": "<@UBOT> what is an MQL? " + "really " * 130_000})).encode()
    over = b'{"a": "' + b"x" * 2_000_000 + b'"}'
    return [("unsigned 2 MB", over, {"Content-Type": "application/json"}),
            ("signed 2 MB", over, {"Content-Type": "application/json", **sign(over)}),
            ("signed 0.9 MB question", question, {"Content-Type": "application/json",
                                                   **sign(question)})]


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST exactly these bytes and headers; the status, or -1 if no answer came."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    # http.client sends str headers as Latin-1 only; bytes go out as they are (UTF-8 here).
    raw = {k: v if v.isascii() else v.encode() for k, v in headers.items()}
    try:
        conn.request("POST", parts.path, body=body, headers=raw)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException, ValueError):
        return -1
    finally:
        conn.close()


# The warehouse, the state store and the server ------------------------------------------

def create_warehouse() -> sa.URL:
    """A new PostgreSQL database with the demo data at a small scale."""
    from metrics.demo_data import generate

    name = f"ssot_soak_{secrets.token_hex(4)}"
    admin = sa.create_engine(sa.make_url(POSTGRES).set(database="postgres"),
                             isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES).set(database=name)
    generate(url.render_as_string(hide_password=False), scale=2000, seed=42, as_of=AS_OF)
    return url


def drop_warehouse(url: sa.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


def subscribe(database_url: str) -> None:
    """Subscribe the SUBSCRIBERS channels to every change, before the server starts."""
    from bot.state.store import StateStore

    store = StateStore.from_url(database_url)
    for channel in SUBSCRIBERS:
        store.subscribe(channel, "all")
    store.close()


def server_env(workdir: Path, api: SlackStandIn, warehouse: str) -> dict[str, str]:
    """The server's environment: nothing of ours from the caller's, all paths in `workdir`."""
    shutil.copytree(ROOT / "glossary_docs", workdir / "glossary")
    if (ROOT / "var" / "cache").is_dir():  # a copy: the edits must not touch the shared cache
        shutil.copytree(ROOT / "var" / "cache", workdir / "cache")
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SSOT_", "SLACK_")) and k not in ("DATABASE_URL",
                                                                         "WAREHOUSE_URL")}
    return {**inherited, "SLACK_BOT_TOKEN": "xoxb-soak", "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_BASE_URL": api.api_url, "DATABASE_URL": f"sqlite:///{workdir / 'state.db'}",
            "WAREHOUSE_URL": warehouse, "SSOT_GLOSSARY_DIR": str(workdir / "glossary"),
            "SSOT_METRICS_DIR": str(ROOT / "metrics" / "definitions"),
            "SSOT_CACHE_DIR": str(workdir / "cache"), "SSOT_AS_OF": AS_OF.isoformat(),
            "SSOT_SYNC_INTERVAL_S": "2", "SSOT_WAREHOUSE_TIMEOUT_S": "2",
            "SSOT_WAREHOUSE_RETRY_S": "10", "SSOT_CURRENT_VALUE_REFRESH_S": "30",
            "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET a URL: (status, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_server(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen, str]:
    """`ssot serve --http` on a free loopback port, once /readyz says it is ready."""
    port = free_port()
    ssot = str(Path(sys.executable).parent / "ssot")
    log = open(workdir / "serve.log", "ab")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([ssot, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}")
        with contextlib.suppress(OSError):
            if get(f"{base}/readyz", timeout=10)[0] == 200:
                return proc, base
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError("server was not ready in 600 s")


def start_server_retrying(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen, str]:
    """Others change the app while this runs: a server that does not start gets two more tries."""
    for attempt in (1, 2, 3):
        try:
            return start_server(env, workdir)
        except RuntimeError as exc:
            tail = (workdir / "serve.log").read_text(errors="replace")[-2000:]
            print(f"attempt {attempt}: {exc}\n{tail}", file=sys.stderr)
            if attempt < 3:
                time.sleep(60)
    sys.exit("the server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def readiness(base: str) -> str:
    """/readyz's status code and its failing checks."""
    try:
        status, body = get(f"{base}/readyz")
    except OSError as exc:
        return f"no answer ({exc})"
    try:
        checks = json.loads(body)["checks"]
    except (ValueError, KeyError, TypeError):
        return f"{status} {body[:200]!r}"
    failing = [f"{name}: {c.get('detail')}" for name, c in checks.items() if not c.get("ok")]
    return f"{status} " + ("; ".join(failing) if failing else "(all checks pass)")


# The run ----------------------------------------------------------------------------------

@dataclass
class Slice:
    """One slice of the run: its fault, where its part of the server log starts, /readyz."""

    fault: Fault
    log_from: int
    ready: Future[str] | None = None


def warm_up(sender: SlackSender, api: SlackStandIn) -> None:
    """One question of each kind, answered before the clock starts: lazy imports, threads."""
    sender.command("/define", "mql", api.response_url("warm/define"))
    sender.command("/metric", "win rate last quarter", api.response_url("warm/metric"))
    sender.event({"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
                  "text": "<@UBOT> what is an SQL?", "ts": "1700000000.000009"})
    for name in ("response/warm/define", "response/warm/metric", "chat.postMessage"):
        api.wait_for(name, timeout=120)


def run(faults: list[Fault], traffic: Traffic, base: str, log: Path,
        minutes: float) -> list[Slice]:
    """Each fault for its slice while the questions go on; /readyz once mid-slice."""
    slice_s = minutes * 60 / len(faults)
    checks = ThreadPoolExecutor(2, thread_name_prefix="readyz")
    slices, started = [], time.monotonic()
    for index, fault in enumerate(faults):
        current = Slice(fault, log.stat().st_size)
        slices.append(current)
        print(f"{time.monotonic() - started:5.0f} s  {fault.name}", file=sys.stderr)
        begin = time.monotonic()
        fault.start()
        while (gone := time.monotonic() - begin) < slice_s:
            traffic.send_due(started, index)
            fault.tick(gone / slice_s)
            if current.ready is None and gone >= slice_s / 2:
                current.ready = checks.submit(readiness, base)
            time.sleep(0.05)
        fault.stop()
    checks.shutdown(wait=False)
    return slices


def drain(traffic: Traffic, api: SlackStandIn, state_db: Path) -> None:
    """Wait for the last answers and notifications: DRAIN_S at most."""
    traffic.finish()
    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline:
        collect_answers(api, traffic.questions)
        waiting = outbox_statuses(state_db)
        if (all(q.answered for q in traffic.questions)
                and not waiting["pending"] + waiting["sending"]):
            return
        time.sleep(1)


def outbox_statuses(state_db: Path) -> Counter[str]:
    with contextlib.closing(sqlite3.connect(state_db, timeout=30)) as conn:
        rows = conn.execute("SELECT status, count(*) FROM ssot_outbox GROUP BY status")
        return Counter(dict(rows.fetchall()))


# The report -------------------------------------------------------------------------------

def late_answers(slices: list[Slice], questions: list[Question]) -> tuple[list, list]:
    """Answers later than LATE_S: all, and all but each warehouse slice's first one."""
    late = [q for q in questions if q.latency is not None and q.latency > LATE_S]
    tripping = set()
    for index, s in enumerate(slices):
        first = next((q for q in late if q.slice == index), None)
        if s.fault.warehouse and first is not None:
            tripping.add(first.n)
    return late, [q for q in late if q.n not in tripping]


def print_questions(slices: list[Slice], questions: list[Question], segments: list[int]) -> None:
    answered = [q for q in questions if q.answered is not None]
    late, after_trip = late_answers(slices, questions)
    acks = [q.acked - q.sent for q in questions if q.status > 0]
    not_acked = Counter(q.status for q in questions if q.status != 200)
    print(f"questions sent: {len(questions)} (acknowledged with 200: "
          f"{len(questions) - sum(not_acked.values())}; others: {dict(not_acked) or 'none'}; "
          f"slowest ack {max(acks, default=0) * 1000:.0f} ms)")
    print(f"questions answered: {len(answered)}/{len(questions)} (target: all)")
    print(f"answers later than {LATE_S:g} s: {len(late)}; without the first one of each "
          f"warehouse-fault slice: {len(after_trip)} (target 0)")
    print(f"\n{'slice':<24}{'sent':>6}{'answered':>10}{'>3 s':>6}{'p50 s':>7}{'max s':>7}"
          f"{'sorry':>7}{'tracebacks':>12}")
    for index, s in enumerate(slices):
        mine = [q for q in questions if q.slice == index]
        waits = [q.latency for q in mine if q.latency is not None]
        sorry = sum("Sorry" in q.reply for q in mine)
        print(f"{s.fault.name:<24}{len(mine):>6}{len(waits):>10}"
              f"{sum(w > LATE_S for w in waits):>6}"
              f"{statistics.median(waits) if waits else 0:>7.2f}{max(waits, default=0):>7.2f}"
              f"{sorry:>7}{segments[index]:>12}")
    print(f"{'(after the last question)':<24}{'':>49}{segments[-1]:>12}")
    print_slowest(slices, late, [q for q in questions if q.answered is None])


def print_slowest(slices: list[Slice], late: list[Question], unanswered: list[Question]) -> None:
    """The first few late and unanswered questions of each slice, with when they were sent."""
    for title, shown in (("late answers", late), ("unanswered", unanswered)):
        if shown:
            print(f"\n{title} ({len(shown)}; the first {SHOWN} of each slice):")
        for index, s in enumerate(slices):
            for q in [q for q in shown if q.slice == index][:SHOWN]:
                wait = f"{q.latency:6.2f} s" if q.latency is not None else "   never"
                sent = dt.datetime.fromtimestamp(q.sent_at).strftime("%H:%M:%S.%f")[:-3]
                print(f"  {wait}  {s.fault.name:<22} sent {sent} {q.kind:<8}"
                      f"{q.text[:40]!r} -> {q.reply[:70]!r}")


def print_notifications(api: SlackStandIn, state_db: Path, expected: int) -> None:
    statuses = outbox_statuses(state_db)
    ids = []
    for call in api.calls_to("chat.postMessage"):
        metadata = call.value("metadata")
        if isinstance(metadata, dict) and metadata.get("event_type") == NOTICE:
            ids.append((metadata.get("event_payload") or {}).get("notification_id"))
    twice = sum(1 for count in Counter(ids).values() if count > 1)
    print(f"\nnotifications queued (rows in ssot_outbox): {sum(statuses.values())} "
          f"(expected {expected}: {len(EDITS)} valid edits x {len(SUBSCRIBERS)} channels); "
          f"by status: {dict(statuses) or 'none'}")
    print(f"notifications delivered (chat.postMessage with {NOTICE} metadata): {len(ids)}, "
          f"to {len(set(ids))} distinct notification ids")
    print(f"delivered twice: {twice} (target 0); still pending: "
          f"{statuses['pending'] + statuses['sending']}")


def print_readiness(slices: list[Slice]) -> None:
    print("\n/readyz mid-slice:")
    for s in slices:
        print(f"  {s.fault.name:<24}{s.ready.result() if s.ready else 'not checked'}")


def log_segments(log: bytes, slices: list[Slice], drain_from: int) -> list[int]:
    """How many tracebacks each slice's part of the log holds, then the part after it."""
    bounds = [s.log_from for s in slices] + [drain_from, len(log)]
    return [log[a:b].count(b"Traceback") for a, b in itertools.pairwise(bounds)]


def first_traceback(log: bytes) -> str | None:
    """The first traceback with the log line that announced it."""
    at = log.find(b"Traceback")
    if at < 0:
        return None
    lines = log[:at].splitlines(keepends=True)
    start = at - sum(len(line) for line in lines[-1:])
    tail = log[at:].splitlines(keepends=True)
    end = next((i for i, line in enumerate(tail[1:], 1) if LOG_LINE.match(line)), len(tail))
    return (log[start:at] + b"".join(tail[:min(end, 80)])).decode(errors="replace")


def print_junk(junk: JunkBurst) -> None:
    total = Counter()
    for counts in junk.statuses.values():
        total.update(counts)
    print(f"\njunk requests: {sum(total.values())} sent; answered with "
          f"{', '.join(f'{s} x {n}' for s, n in sorted(total.items()))}")
    for label, counts in junk.statuses.items():
        if any(s >= 500 or s < 0 or s == 200 for s in counts):
            print(f"  {label}: {dict(counts)}")


# Putting it together ----------------------------------------------------------------------

def soak(workdir: Path, api: SlackStandIn, warehouse: sa.URL, proxy: Proxy,
         minutes: float) -> None:
    """Start the server, run every slice, wait for the stragglers, print, stop the server."""
    through_proxy = warehouse.set(host="127.0.0.1", port=proxy.port)
    env = server_env(workdir, api, through_proxy.render_as_string(hide_password=False))
    state_db, log = workdir / "state.db", workdir / "serve.log"
    subscribe(env["DATABASE_URL"])
    proc, base = start_server_retrying(env, workdir)
    try:
        sender = SlackSender(f"{base}/slack/events", SECRET)
        warm_up(sender, api)
        traffic = Traffic(sender, api)
        junk = JunkBurst(f"{base}/slack/events")
        faults = [Fault(), StoreLock(state_db), WarehouseLock(warehouse), BlackHole(proxy),
                  SlowWebApi(traffic), GlossaryEdits(workdir / "glossary"), junk, Fault()]
        slices = run(faults, traffic, base, log, minutes)
        slices[0].fault.name, slices[-1].fault.name = "normal (start)", "normal (end)"
        drain_from = log.stat().st_size
        drain(traffic, api, state_db)
        text = log.read_bytes()
        print_questions(slices, traffic.questions, log_segments(text, slices, drain_from))
        print_notifications(api, state_db, len(EDITS) * len(SUBSCRIBERS))
        print_readiness(slices)
        print_junk(junk)
        print(f"\nTraceback in the server's log: {text.count(b'Traceback')} (target 0)")
        if (shown := first_traceback(text)) is not None:
            print(f"the first one:\n{shown}")
        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here at the end")
    args = parser.parse_args()
    api = SlackStandIn().start()
    api.channels.update(CHANNELS)
    warehouse = create_warehouse()
    proxy = Proxy((warehouse.host or "127.0.0.1", warehouse.port or 5432))
    try:
        with tempfile.TemporaryDirectory(prefix="ssot-soak-") as tmp:
            try:
                soak(Path(tmp), api, warehouse, proxy, args.minutes)
            finally:
                if args.keep_log and (Path(tmp) / "serve.log").exists():
                    shutil.copy(Path(tmp) / "serve.log", args.keep_log)
    finally:
        proxy.close()
        drop_warehouse(warehouse)
        api.stop()


if __name__ == "__main__":
    main()
