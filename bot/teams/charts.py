"""A metric broken down by time gets its chart posted under its reply, as in Slack.

Teams takes a bot's image inline, as a data URL in an attachment (a chart is about 15 KB). The
chart follows the card, never holds it up: it is drawn after the card is posted, and a chart
that cannot be drawn or posted is logged while the reply stands. A private reply gets no
chart, since the image would show the restricted numbers to everyone in the conversation.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from bot.chat.reply import Reply
from metrics import charts

log = logging.getLogger(__name__)


def chart_activity(reply: Reply, reply_to: str | None, currency: str = "USD") -> Any | None:
    """The message carrying the reply's chart, or None when it has none to show."""
    from microsoft_teams.api import Attachment, MessageActivityInput

    result = reply.answer.result if reply.answer else None
    if reply.private or result is None or not charts.by_time(result):
        return None
    try:
        png = charts.draw(result, currency)
    except Exception:  # a bug in drawing must not turn an answered question into an apology
        log.exception("could not draw the chart of %s", result.metric)
        return None
    image = Attachment(content_type="image/png", name=f"{result.metric}-by-{result.grain}.png",
                       content_url="data:image/png;base64," + base64.b64encode(png).decode())
    title = result.interpretation or f"{result.name} by {result.grain}"
    return MessageActivityInput(text=title, reply_to_id=reply_to).add_attachments(image)
