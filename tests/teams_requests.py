"""Bot-Framework-shaped activities, as the Bot Connector delivers them, and what cards show."""

from __future__ import annotations

from typing import Any

from tests.teams_standin import BOT_ID, TENANT_ID, TeamsStandIn

CHANNEL = "19:revops@thread.tacv2"
TEAM = "19:team@thread.tacv2"
ANA = "00000000-0000-0000-0000-0000000000a1"  # her AAD object id: the user id the bot keeps


def message(standin: TeamsStandIn, text: str, activity_id: str, conversation: dict,
            **extra: Any) -> dict:
    """A message activity."""
    return {"type": "message", "id": activity_id, "timestamp": "2026-11-15T10:00:00.000Z",
            "serviceUrl": standin.service_url, "channelId": "msteams",
            "from": {"id": "29:user-ana", "name": "Ana Ruiz", "aadObjectId": ANA},
            "conversation": conversation, "recipient": {"id": BOT_ID, "name": "ssot"},
            "text": text, "textFormat": "plain", "locale": "en-US",
            "channelData": {"tenant": {"id": TENANT_ID}}, **extra}


def personal(standin: TeamsStandIn, text: str, activity_id: str = "1770000000100",
             **extra: Any) -> dict:
    """A message in Ana's personal chat with the bot."""
    conversation = {"id": "a:personal-ana", "conversationType": "personal",
                    "tenantId": TENANT_ID}
    return message(standin, text, activity_id, conversation, **extra)


def channel_mention(standin: TeamsStandIn, text: str, activity_id: str,
                    channel: str = CHANNEL) -> dict:
    """A new channel post that @mentions the bot: its conversation is the post's thread."""
    conversation = {"id": f"{channel};messageid={activity_id}", "conversationType": "channel",
                    "isGroup": True, "tenantId": TENANT_ID}
    return message(
        standin, f"<at>ssot</at> {text}", activity_id, conversation,
        entities=[{"type": "mention", "text": "<at>ssot</at>",
                   "mentioned": {"id": BOT_ID, "name": "ssot"}}],
        channelData={"teamsChannelId": channel, "teamsTeamId": TEAM,
                     "channel": {"id": channel}, "team": {"id": TEAM},
                     "tenant": {"id": TENANT_ID}})


def invoke(base: dict, name: str, value: dict) -> dict:
    """An invoke activity (a card click, a message-extension query) in `base`'s conversation."""
    activity = {**base, "type": "invoke", "name": name, "value": value}
    activity.pop("text", None)
    activity.pop("entities", None)
    return activity


def texts(card: dict) -> list[str]:
    """Every piece of text a person sees on a card, in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("TextBlock", "TextRun"):
                found.append(node["text"])
            if "type" not in node and {"title", "value"} <= node.keys():  # a fact
                found.append(f"{node['title']}: {node['value']}")
            for key, value in node.items():
                if key != "data":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def buttons(card: dict) -> dict[str, dict]:
    """Each Action.Execute's title and the data it sends."""
    found: dict[str, dict] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found[node["title"]] = node["data"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found
