"""A core `Reply` as the arguments of a Slack message: Block Kit and its plain-text fallback."""

from __future__ import annotations

from bot.chat.asked import Asked
from bot.chat.reply import Reply
from bot.slack import blocks


def kwargs(reply: Reply) -> dict:
    """`text` and `blocks` for chat.postMessage, a response_url or an ephemeral post."""
    if reply.answer is not None:
        asked = reply.asked or Asked(via="ask", text=reply.answer.question)
        rendered = blocks.answer_blocks(reply.answer, asked, shareable=reply.shareable)
        text = blocks.answer_text(reply.answer)
    elif reply.sql is not None:
        rendered, text = blocks.sql_blocks(reply.sql), reply.sql.sql
    else:
        rendered, text = blocks.message_blocks(reply.text), reply.text
    return {"text": text[: blocks.MAX_SECTION], "blocks": [b.to_dict() for b in rendered]}
