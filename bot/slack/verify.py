"""What the HTTP edge refuses before Bolt sees a request: unsigned, stale or unreadable ones.

The signature is checked on the raw bytes first, so a body is parsed only once Slack is known
to have sent it. A request without a valid, fresh signature gets 401; a signed one that is not
a Slack payload (a JSON object, or a form possibly around one, with the fields the app reads
shaped as Slack shapes them) gets 400. Neither reaches Bolt or a listener, so neither can
fail in there with a 500 or a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import parse_qs, parse_qsl

from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context

FRESH_S = 5 * 60  # Slack's own limit: an older signature may be a replay
FORM = "application/x-www-form-urlencoded"
PAYLOAD_TYPES = frozenset({"application/json", FORM})
# The fields Bolt's routing and the listeners read, and what Slack always sends in them: a
# payload with anything else there would fail in Bolt (a 500) or in a listener (a traceback).
TOP_STRINGS = ("type", "event_id", "command", "text", "response_url", "callback_id",
               "trigger_id", "channel_id", "user_id", "team_id")
EVENT_STRINGS = ("subtype", "text", "channel", "channel_type", "user", "bot_id", "ts",
                 "thread_ts", "tab")
ACTION_STRINGS = ("type", "action_id", "block_id", "value")
OBJECTS = ("user", "channel", "team", "container", "message", "view")
CONVERSATIONAL = frozenset({"app_mention", "message"})  # answered where they were asked
HANDLED_EVENTS = CONVERSATIONAL | {"app_home_opened"}


def signed(secret: bytes, headers: Mapping[str, str], body: bytes,
           now: float | None = None) -> bool:
    """Whether Slack signed this body with `secret` within the last five minutes (v0 HMAC)."""
    if not secret:
        return False
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > FRESH_S:
        return False
    digest = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(b"v0=" + digest.hexdigest().encode(),
                               signature.encode("latin-1"))


def ssl_check(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether this is Slack's check of the server's certificate, which Slack does not sign.

    It carries nothing to act on and is answered with an empty 200, as Bolt would answer it.
    """
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded" or len(body) > 1000:
        return False
    return parse_qs(body.decode("latin-1")).get("ssl_check") == ["1"]


def bolt_request(body: bytes, query: str, headers: Mapping[str, str]) -> BoltRequest | None:
    """The request as Bolt reads it, or None if its body is not a Slack payload."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in PAYLOAD_TYPES:
        return None
    try:
        request = BoltRequest(body=body.decode("utf-8"), query=query, headers=dict(headers))
        if not request.body and kind == FORM:
            _read_as_form(request)
    # Bolt parses any JSON value (or a form's `payload` field) and then reads ids from it as
    # from an object: a list, a number, null, a string or a too deeply nested document fails
    # in there, in one of these ways.
    except (ValueError, RecursionError, AttributeError, TypeError, KeyError, IndexError):
        return None
    return request if isinstance(request.body, dict) and well_formed(request.body) else None


def _read_as_form(request: BoltRequest) -> None:
    """Bolt takes any form whose text contains "payload" for an interaction's `payload=`
    field, and reads it as empty when there is none: a slash command asking about a payload
    would never be answered. Such a form is read field by field, as Bolt reads any other."""
    fields = dict(parse_qsl(request.raw_body, keep_blank_values=True))
    if "payload" not in fields:
        request.body = fields
        request.context = build_context(BoltContext({}), fields)


def well_formed(body: dict) -> bool:
    """Whether a payload has the shape Slack gives it where the app reads it."""
    if not _strings(body, TOP_STRINGS):
        return False
    if "command" in body:
        return bool(body.get("response_url"))
    if body.get("type") == "event_callback":
        return _event(body.get("event"))
    actions = body.get("actions", [])
    return (all(body.get(name) is None or isinstance(body[name], dict) for name in OBJECTS)
            and _strings(body.get("message") or {}, ("text", "ts"))
            and isinstance(actions, list)
            and all(isinstance(a, dict) and _strings(a, ACTION_STRINGS) for a in actions))


def _event(event: object) -> bool:
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return False
    if event["type"] not in HANDLED_EVENTS:
        return True  # Bolt acknowledges it and nothing reads it
    return _strings(event, EVENT_STRINGS) and (
        event["type"] not in CONVERSATIONAL or isinstance(event.get("channel"), str))


def _strings(found: dict, names: tuple[str, ...]) -> bool:
    return all(found.get(name) is None or isinstance(found[name], str) for name in names)
