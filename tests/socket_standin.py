"""Slack's Socket Mode endpoint on loopback: the app connects out to it, as it would to Slack.

`SlackStandIn.socket_url` points `apps.connections.open` here. Tests push envelopes the way
Slack does and read back what the app sent over the socket (acknowledgements).

    envelope_id = sockets.push("events_api", event_callback_body)
    ack = sockets.wait_for_ack(envelope_id)
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class SocketModeStandIn:
    """A WebSocket server on a free loopback port that records every message it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._server = serve(self._serve, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=standin"

    def start(self) -> SocketModeStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def wait_connected(self, timeout: float = 300.0) -> None:
        """Block until the app has opened its connection."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._connections, timeout):
                raise AssertionError(f"the app did not connect over Socket Mode in {timeout} s")

    def push(self, kind: str, payload: dict[str, Any], *, retry_attempt: int | None = None,
             envelope_id: str | None = None) -> str:
        """Send one envelope (`events_api`, `slash_commands`, `interactive`); returns its id."""
        envelope_id = envelope_id or f"envelope-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api"}
        if retry_attempt is not None:
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": "timeout"}
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The app's acknowledgement of one envelope; fails the test on timeout."""
        def acked() -> dict[str, Any] | None:
            return next((m for m in self.received if m.get("envelope_id") == envelope_id), None)

        with self._changed:
            if not self._changed.wait_for(acked, timeout):
                raise AssertionError(f"envelope {envelope_id} was not acknowledged in {timeout} s")
            return acked()

    def _serve(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0SSOT"}}))
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        try:
            for message in connection:
                with self._changed:
                    self.received.append(json.loads(message))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._connections.remove(connection)
