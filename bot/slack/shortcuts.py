"""The message shortcut "Explain terms in this message"."""

from __future__ import annotations

from slack_bolt import App, Respond

from bot.slack.acks import ack_now
from bot.slack.replies import Replies

EXPLAIN_TERMS = "explain_terms"


def register(app: App, replies: Replies) -> None:
    """One-line definitions of the governed terms a message mentions, privately."""

    def explain(body: dict, respond: Respond) -> None:
        text = (body.get("message") or {}).get("text", "")
        respond(response_type="ephemeral", replace_original=False,
                **replies.explain(text).as_kwargs())

    app.shortcut(EXPLAIN_TERMS)(ack=ack_now, lazy=[explain])
