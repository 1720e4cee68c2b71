"""Messages: @mentions, DMs, thread follow-ups and auto-answered channel questions."""

from __future__ import annotations

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot.chat.conversation import Threaded
from bot.chat.replies import Replies
from bot.slack import render
from bot.slack.background import Background, acked
from bot.slack.charts import post_chart
from bot.slack.conversation import answer_mention, answer_message
from bot.slack.once import first_to_answer


def register(app: App, replies: Replies, background: Background) -> None:
    """Answer questions asked in conversation."""

    def post(threaded: Threaded, event: dict, say: Say, client: WebClient,
             context: BoltContext) -> None:
        if not first_to_answer(context):
            return  # a redelivery of this event got here first and answered it
        if threaded.reply.private:  # a restricted value: only the asker sees it
            client.chat_postEphemeral(channel=event["channel"], user=event["user"],
                                      thread_ts=threaded.thread,
                                      **render.kwargs(threaded.reply))
            return
        say(thread_ts=threaded.thread, **render.kwargs(threaded.reply))
        if threaded.thread:  # after posting, off this thread: a locked store delays nobody
            replies.recorder.record(replies.store.mark_thread, event["channel"],
                                    threaded.thread)
        post_chart(client, threaded.reply, event["channel"], threaded.thread,
                   getattr(replies.services.metrics, "currency", "USD"))

    def on_mention(event: dict, say: Say, client: WebClient, context: BoltContext) -> None:
        post(answer_mention(replies, event), event, say, client, context)

    def on_message(event: dict, say: Say, client: WebClient, context: BoltContext) -> None:
        threaded = answer_message(replies, event, context.bot_user_id)
        if threaded:
            post(threaded, event, say, client, context)

    app.event("app_mention")(acked(background, on_mention))
    app.event("message")(acked(background, on_message))
