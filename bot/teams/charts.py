"""A metric broken down by time gets its chart posted under its reply, as in Slack.

Teams takes a bot's image inline, as a data URL in an attachment (a chart is about 15 KB). The
chart is drawn after the card is posted; one that cannot be posted is logged while the reply
stands (`bot.chat.charts` says which replies get one).
"""

from __future__ import annotations

import base64
from typing import Any

from bot.chat.charts import reply_chart, title
from bot.chat.reply import Reply


def chart_activity(reply: Reply, reply_to: str | None, currency: str = "USD") -> Any | None:
    """The message carrying the reply's chart, or None when it has none to show."""
    from microsoft_teams.api import Attachment, MessageActivityInput

    drawn = reply_chart(reply, currency)
    if drawn is None:
        return None
    result, png = drawn
    image = Attachment(content_type="image/png", name=f"{result.metric}-by-{result.grain}.png",
                       content_url="data:image/png;base64," + base64.b64encode(png).decode())
    return MessageActivityInput(text=title(result), reply_to_id=reply_to).add_attachments(image)
