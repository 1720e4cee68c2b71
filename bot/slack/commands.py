"""Slash commands: /define, /metric, /ssot. Ephemeral answers via the response_url."""

from __future__ import annotations

from slack_bolt import App, Respond

from bot.chat import commands
from bot.chat.replies import Replies
from bot.slack import render
from bot.slack.background import Background, acked
from bot.slack.payloads import where_from_command


def register(app: App, replies: Replies, background: Background) -> None:
    """Acknowledge at once, answer through the response_url."""

    def define(command: dict, respond: Respond) -> None:
        reply = replies.define(command.get("text", ""), where_from_command(command))
        respond(response_type="ephemeral", **render.kwargs(reply))

    def metric(command: dict, respond: Respond) -> None:
        reply = replies.metric(command.get("text", ""), where_from_command(command))
        respond(response_type="ephemeral", **render.kwargs(reply))

    def ssot(command: dict, respond: Respond) -> None:
        reply = commands.run(replies, command.get("text", ""), where_from_command(command))
        respond(response_type="ephemeral", **render.kwargs(reply))

    app.command("/define")(acked(background, define))
    app.command("/metric")(acked(background, metric))
    app.command("/ssot")(acked(background, ssot))
