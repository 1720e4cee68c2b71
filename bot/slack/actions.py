"""Buttons: related terms, did-you-mean, Helpful / Not helpful, Show SQL, Share in channel."""

from __future__ import annotations

import re

from slack_bolt import App, Respond

from bot.chat.asked import Asked
from bot.chat.replies import EXPIRED, Replies
from bot.chat.reply import message
from bot.slack import blocks, render
from bot.slack.background import Background, acked
from bot.slack.payloads import where_from_interaction

NOT_SHAREABLE = ("That number is restricted, and this channel is not in its audience, so it "
                 "cannot be shared here. It stays visible only to you.")


def register(app: App, replies: Replies, background: Background) -> None:
    """Each button answers privately, except Share, which posts for everyone."""

    def private(respond: Respond, reply) -> None:
        respond(response_type="ephemeral", replace_original=False, **render.kwargs(reply))

    def define_term(body: dict, action: dict, respond: Respond) -> None:
        private(respond, replies.define(action["value"], where_from_interaction(body)))

    def feedback(body: dict, action: dict, respond: Respond) -> None:
        helpful = action["action_id"] == blocks.HELPFUL
        private(respond, replies.feedback(Asked.decode(action.get("value")), helpful,
                                          where_from_interaction(body)))

    def show_sql(body: dict, action: dict, respond: Respond) -> None:
        private(respond, replies.sql(Asked.decode(action.get("value")),
                                     where_from_interaction(body)))

    def share(body: dict, action: dict, respond: Respond) -> None:
        asked = Asked.decode(action.get("value"))
        if asked is None:
            return private(respond, message(EXPIRED))
        reply = replies.again(asked, where_from_interaction(body), shareable=False)
        if reply.private:  # a restricted value this channel may not see stays private
            return private(respond, message(NOT_SHAREABLE))
        respond(response_type="in_channel", replace_original=False, **render.kwargs(reply))
        respond(delete_original=True)  # the private copy has done its job

    terms = re.compile(f"^({blocks.RELATED}|{blocks.DID_YOU_MEAN})_")
    app.action(terms)(acked(background, define_term))
    app.action(re.compile(f"^({blocks.HELPFUL}|{blocks.NOT_HELPFUL})$"))(
        acked(background, feedback))
    app.action(blocks.SHOW_SQL)(acked(background, show_sql))
    app.action(blocks.SHARE)(acked(background, share))
