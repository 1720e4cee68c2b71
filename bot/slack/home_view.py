"""The App Home tab: a pure function from what the bot knows to a Home view."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View

from bot.chat.commands import change_line, glossary_text
from bot.slack.blocks import message_blocks
from bot.state.models import Change, Subscription
from knowledge.models import Term

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab


def home_view(terms: Iterable[Term], changes: list[Change],
              subscriptions: list[Subscription] | None) -> View:
    """Search hint, the glossary by domain, recent changes, the user's channels' subscriptions.

    `subscriptions` is None when the user's channels could not be listed.
    """
    blocks = [
        HeaderBlock(text=PlainTextObject(text="The single source of truth")),
        *message_blocks("Ask me anything about our revenue terms: send me a DM, mention me in "
                        "a channel, or use `/define TERM` and `/metric METRIC [period]`. "
                        "`/ssot help` lists everything else."),
        DividerBlock(), HeaderBlock(text=PlainTextObject(text="Glossary by domain")),
        *message_blocks(glossary_text(terms)),
        DividerBlock(), HeaderBlock(text=PlainTextObject(text="Recent definition changes")),
        *message_blocks("\n".join(map(change_line, changes)) or "No changes recorded yet."),
        DividerBlock(), HeaderBlock(text=PlainTextObject(text="Your channels' subscriptions")),
        *_subscriptions(subscriptions),
    ]
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def _subscriptions(subscriptions: list[Subscription] | None) -> list:
    if subscriptions is None:
        return [ContextBlock(elements=[PlainTextObject(
            text="Your channels could not be listed right now.")])]
    if not subscriptions:
        return message_blocks("None of your channels is subscribed. In a channel, run "
                              "`/ssot subscribe TERM|DOMAIN|all`.")
    lines = [f"• <#{s.channel}>: `{s.target}`" for s in subscriptions]
    return message_blocks("\n".join(lines))
