"""Slack-shaped, correctly signed requests to a running app: what Slack itself would send."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
from urllib.parse import urlencode, urlsplit

TEAM = {"id": "T0001", "domain": "example"}
_ids = itertools.count(1)


def signature_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """`X-Slack-Request-Timestamp` and `X-Slack-Signature` as Slack computes them (v0 HMAC)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


class SlackSender:
    """Posts signed requests to `POST /slack/events` and returns (status, body)."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def post(self, body: str, content_type: str, *, headers: dict[str, str] | None = None,
             timestamp: int | None = None, secret: str | None = None) -> tuple[int, str]:
        signed = signature_headers(secret or self.secret, body, timestamp)
        url = urlsplit(self.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("POST", url.path, body=body.encode(),
                         headers={"Content-Type": content_type, **signed, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def command(self, command: str, text: str, response_url: str, *, channel: str = "C0GENERAL",
                user: str = "U0ALICE", **kw) -> tuple[int, str]:
        """A slash command, form-encoded as Slack sends it."""
        form = command_form(command, text, response_url, channel=channel, user=user)
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def event(self, event: dict, *, event_id: str | None = None, **kw) -> tuple[int, str]:
        """An `event_callback` envelope around one event."""
        return self.post(json.dumps(event_callback(event, event_id)), "application/json", **kw)

    def interaction(self, payload: dict, **kw) -> tuple[int, str]:
        """`block_actions` or `message_action`: a form with one JSON `payload` field."""
        payload = {"team": TEAM, "api_app_id": "A0SSOT", "token": "legacy",
                   "trigger_id": f"trigger.{next(_ids)}", **payload}
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded", **kw)

    def button(self, action_id: str, value: str, response_url: str, *,
               channel: str = "C0GENERAL", user: str = "U0ALICE") -> tuple[int, str]:
        """A click on a button in one of the bot's messages."""
        return self.interaction({
            "type": "block_actions", "user": {"id": user, "name": "alice"},
            "channel": {"id": channel, "name": "general"}, "response_url": response_url,
            "container": {"type": "message", "channel_id": channel, "is_ephemeral": True},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                         "value": value, "action_ts": str(time.time())}],
        })


def command_form(command: str, text: str, response_url: str, *, channel: str = "C0GENERAL",
                 user: str = "U0ALICE") -> dict[str, str]:
    """The fields of a slash command, as Slack sends them (form-encoded over HTTP)."""
    return {"token": "legacy", "team_id": TEAM["id"], "team_domain": TEAM["domain"],
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": "alice", "command": command, "text": text, "api_app_id": "A0SSOT",
            "response_url": response_url, "trigger_id": f"trigger.{next(_ids)}"}


def event_callback(event: dict, event_id: str | None = None) -> dict:
    """The `event_callback` body Slack wraps around one event."""
    return {"token": "legacy", "team_id": TEAM["id"], "api_app_id": "A0SSOT",
            "type": "event_callback", "event": event,
            "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM["id"], "user_id": "UBOT", "is_bot": True}]}


def message_event(text: str, ts: str, *, channel: str = "C0GENERAL", user: str = "U0ALICE",
                  channel_type: str = "channel", **extra) -> dict:
    """A `message` event as Slack sends it for channels and DMs."""
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": channel_type, **extra}
