"""App Home: published each time a user opens the bot's Home tab."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat.replies import Replies
from bot.slack.background import Background, acked
from bot.slack.home_view import home_view

log = logging.getLogger(__name__)


def register(app: App, replies: Replies, background: Background) -> None:
    """Publish the Home view on `app_home_opened`."""

    def publish(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        channels = user_channels(client, event["user"])
        subs = None if channels is None else [
            s for s in replies.store.subscriptions() if s.channel in channels]
        view = home_view(replies.services.knowledge.glossary.terms.values(),
                         replies.store.recent_changes(limit=8), subs)
        client.views_publish(user_id=event["user"], view=view)

    app.event("app_home_opened")(acked(background, publish))


def user_channels(client: WebClient, user: str) -> set[str] | None:
    """The channels a user is in; None if Slack would not say (best effort: Home still shows)."""
    try:
        found = set()
        for page in client.users_conversations(user=user, limit=200,
                                               types="public_channel,private_channel"):
            found.update(c["id"] for c in page.get("channels", []))
        return found
    except SlackApiError as exc:
        log.info("could not list channels of %s: %s", user, exc.response.get("error"))
        return None
