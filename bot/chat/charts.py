"""The chart beside a reply: the same PNG on every surface that shows one, or none.

The chart follows the reply, never holds it up, and a private reply gets none: a chart is seen
by the whole conversation, and it would show the restricted numbers to everyone there.
"""

from __future__ import annotations

import logging

from bot.chat.reply import Reply
from knowledge.answer import MetricResult
from metrics import charts

log = logging.getLogger(__name__)


def reply_chart(reply: Reply, currency: str = "USD") -> tuple[MetricResult, bytes] | None:
    """The reply's result and its chart drawn as a PNG; None when there is no trend to draw."""
    result = reply.answer.result if reply.answer else None
    if reply.private or result is None or not charts.by_time(result):
        return None
    try:
        return result, charts.draw(result, currency)
    except Exception:  # a bug in drawing must not turn an answered question into an apology
        log.exception("could not draw the chart of %s", result.metric)
        return None


def title(result: MetricResult) -> str:
    """What the chart shows: what was computed."""
    return result.interpretation or f"{result.name} by {result.grain}"
