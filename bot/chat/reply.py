"""What the core hands a surface: a reply to render, and where the request came from."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.chat.asked import Asked
from bot.services import SORRY
from knowledge.answer import Answer, MetricResult
from metrics.audience import Audience

log = logging.getLogger(__name__)
STORE_DOWN = ("Sorry, I could not do that just now: my own database is busy or unavailable. "
              "Please try again in a minute.")
MAX_MESSAGE = 3000


@dataclass(frozen=True)
class Reply:
    """An Answer to render, or a short message (errors, confirmations, lists, SQL).

    `text` is in the core's markup (bot/chat/markup.py). `private`: it carries a restricted
    value the conversation may not see, so it goes only to the person who asked, never to
    the channel or thread. `shareable`: the surface may offer to post it for everyone.
    """

    text: str = ""
    answer: Answer | None = None
    asked: Asked | None = None
    private: bool = False
    shareable: bool = False
    sql: MetricResult | None = None  # "Show SQL": the statement behind a metric answer

    @property
    def confident(self) -> bool:
        """Governed text (a definition, two side by side, a guide): the only answers posted
        without being asked."""
        return self.answer is not None and self.answer.kind in ("definition", "comparison",
                                                                "guide")


@dataclass(frozen=True)
class Where:
    """Who asked, from which conversation and surface (the audience for restricted metrics).

    `direct`: a one-to-one chat with the bot, which nobody but the asker reads.
    """

    user: str | None = None
    channel: str | None = None
    channel_name: str | None = None
    surface: str = "slack"
    direct: bool = False
    # The asker's groups, where the platform's edge looked them up.
    groups: frozenset[str] = frozenset()

    @property
    def audience(self) -> Audience:
        """Everyone who reads the conversation: its channel alone."""
        return Audience(channel=self.channel_name or self.channel)

    @property
    def asker(self) -> Audience:
        """The person asking: the conversation's channel and the asker's groups."""
        return Audience(channel=self.channel_name or self.channel, groups=self.groups)


def message(text: str) -> Reply:
    """A plain reply with no Answer behind it (errors, confirmations, lists)."""
    return Reply(text=text[:MAX_MESSAGE])


def never_silent(method: Callable[..., Reply]) -> Callable[..., Reply]:
    """Any failure inside a reply becomes a short apology; the cause goes to the log."""

    @functools.wraps(method)
    def replied(*args, **kwargs) -> Reply:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:  # an outage, not a bug: one line is enough
            log.warning("%s: the state store failed: %s", method.__name__,
                        str(getattr(exc, "orig", None) or exc).splitlines()[0])
            return message(STORE_DOWN)
        except Exception:
            log.exception("%s failed", method.__name__)
            return message(SORRY)

    return replied
