"""A metric broken down by time gets its chart uploaded into the thread of its reply.

The chart follows the text, never holds it up: it is drawn after the reply is posted, and a
chart that cannot be drawn or uploaded is logged while the reply stands. A private reply gets
no chart, since a file shared in the conversation would show the restricted numbers to all.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.charts import reply_chart, title
from bot.chat.reply import Reply
from knowledge.answer import MetricResult

log = logging.getLogger(__name__)
MAX_ALT_TEXT = 1000  # Slack's limit for an image's alt text


def post_chart(client: WebClient, reply: Reply, channel: str, thread_ts: str | None,
               currency: str = "USD") -> str | None:
    """Upload the reply's chart beside it (files upload v2); the file id, or None if none."""
    drawn = reply_chart(reply, currency)
    if drawn is None:
        return None
    result, png = drawn
    try:
        sent = client.files_upload_v2(
            content=png, filename=f"{result.metric}-by-{result.grain}.png",
            title=title(result), alt_txt=alt_text(result)[:MAX_ALT_TEXT],
            channel=channel, thread_ts=thread_ts)
    except SlackApiError as exc:
        error = exc.response.get("error")
        hint = " (the app needs the files:write scope)" if error == "missing_scope" else ""
        log.warning("the chart of %s was not uploaded to %s: %s%s", result.metric, channel,
                    error, hint)
        return None
    except (SlackClientError, OSError) as exc:  # the upload URL refused the bytes or was down
        log.warning("the chart of %s was not uploaded to %s: %s", result.metric, channel, exc)
        return None
    return sent.get("file", {}).get("id")


def alt_text(result: MetricResult) -> str:
    """What a screen reader says for the chart: the question, then the values."""
    shown = ", ".join(f"{' '.join(v or '(none)' for v in row.dimensions.values())}: "
                      f"{row.formatted}" for row in result.rows)
    return f"Chart of {title(result)}. {shown}"
