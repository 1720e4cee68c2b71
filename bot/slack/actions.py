"""Buttons: related terms, did-you-mean, Helpful / Not helpful, Show SQL, Share in channel."""

from __future__ import annotations

import re

from slack_bolt import App, Respond

from bot.slack import blocks
from bot.slack.acks import ack_now
from bot.slack.asked import Asked
from bot.slack.payloads import where_from_interaction
from bot.slack.replies import Replies, message


def register(app: App, replies: Replies) -> None:
    """Each button answers privately, except Share, which posts for everyone."""

    def private(respond: Respond, reply) -> None:
        respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())

    def define_term(body: dict, action: dict, respond: Respond) -> None:
        private(respond, replies.define(action["value"], where_from_interaction(body)))

    def feedback(body: dict, action: dict, respond: Respond) -> None:
        asked = Asked.decode(action.get("value"))
        helpful = action["action_id"] == blocks.HELPFUL
        reply = replies.feedback(asked, helpful, where_from_interaction(body)) if asked \
            else message("That button has expired; ask again.")
        private(respond, reply)

    def show_sql(body: dict, action: dict, respond: Respond) -> None:
        asked = Asked.decode(action.get("value"))
        private(respond, replies.sql(asked, where_from_interaction(body)) if asked
                else message("That button has expired; ask again."))

    def share(body: dict, action: dict, respond: Respond) -> None:
        asked = Asked.decode(action.get("value"))
        if asked is None:
            return private(respond, message("That button has expired; ask again."))
        reply = replies.again(asked, where_from_interaction(body), shareable=False)
        respond(response_type="in_channel", replace_original=False, **reply.as_kwargs())
        respond(delete_original=True)  # the private copy has done its job

    app.action(re.compile(f"^({blocks.RELATED}|{blocks.DID_YOU_MEAN})_"))(
        ack=ack_now, lazy=[define_term])
    app.action(re.compile(f"^({blocks.HELPFUL}|{blocks.NOT_HELPFUL})$"))(
        ack=ack_now, lazy=[feedback])
    app.action(blocks.SHOW_SQL)(ack=ack_now, lazy=[show_sql])
    app.action(blocks.SHARE)(ack=ack_now, lazy=[share])
