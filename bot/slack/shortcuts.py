"""The message shortcut "Explain terms in this message"."""

from __future__ import annotations

from slack_bolt import App, Respond

from bot.chat.replies import Replies
from bot.slack import render
from bot.slack.background import Background, acked

EXPLAIN_TERMS = "explain_terms"


def register(app: App, replies: Replies, background: Background) -> None:
    """One-line definitions of the governed terms a message mentions, privately."""

    def explain(body: dict, respond: Respond) -> None:
        text = (body.get("message") or {}).get("text", "")
        respond(response_type="ephemeral", replace_original=False,
                **render.kwargs(replies.explain(text)))

    app.shortcut(EXPLAIN_TERMS)(acked(background, explain))
