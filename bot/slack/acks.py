"""The acknowledgement every listener sends first."""

from __future__ import annotations

from slack_bolt import Ack


def ack_now(ack: Ack) -> None:
    """Acknowledge at once; the work runs in a lazy listener after the HTTP reply.

    Slack retries anything not acknowledged within 3 seconds, and an answer (model, warehouse,
    Web API calls) can take longer, so nothing but this runs before the response.
    """
    ack()
