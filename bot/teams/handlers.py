"""The SDK's handlers: messages, card clicks, the message extension, installs.

Each translates the activity, calls the core (on a worker thread: it is synchronous) and
renders; none holds rules of its own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.chat.reply import Reply, message
from bot.services import SORRY
from bot.teams import cards, payloads, search
from bot.teams.markdown import from_mrkdwn

if TYPE_CHECKING:
    from bot.teams.app import TeamsBot

EXPLAIN = "explainTerms"
log = logging.getLogger(__name__)


def answered_anyway(sorry: Callable[[], Any]):
    """A handler that fails still answers: the apology `sorry()` builds; the cause is logged."""

    def wrap(handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        @functools.wraps(handler)
        async def safe(ctx: Any) -> Any:
            try:
                return await handler(ctx)
            except Exception:
                log.exception("the Teams %s handler failed", handler.__name__)
                return await sorry(ctx) if asyncio.iscoroutinefunction(sorry) else sorry()

        return safe

    return wrap


def register(app: Any, bot: TeamsBot) -> None:
    """Attach every handler to the SDK app."""
    from microsoft_teams.api.models import (
        MessagingExtensionActionInvokeResponse,
        MessagingExtensionAttachmentLayout,
        MessagingExtensionInvokeResponse,
        MessagingExtensionResult,
        MessagingExtensionResultType,
    )
    from microsoft_teams.api.models.adaptive_card import AdaptiveCardActionMessageResponse

    replies = bot.replies

    async def apologise(ctx: Any) -> None:
        await ctx.send(render_message(SORRY, ctx.activity.id))

    def click_sorry() -> Any:
        return AdaptiveCardActionMessageResponse(value=SORRY)

    def extension_sorry() -> Any:
        return MessagingExtensionActionInvokeResponse(compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.MESSAGE, text=SORRY))

    @app.on_message
    @answered_anyway(apologise)
    async def on_message(ctx: Any) -> None:
        where = await bot.where(ctx, remember=False)
        asked = payloads.message_from(ctx.activity, where)
        if asked.text:  # an empty message (a legacy card submit, an image): nothing asked
            # Answered within the turn: the adapter acknowledged the request before it began.
            await bot.answer(ctx, asked, ctx.activity.is_recipient_mentioned())
        else:
            bot.remember(ctx, where)

    @app.on_card_action_execute
    @answered_anyway(click_sorry)
    async def on_click(ctx: Any) -> Any:
        where = await bot.where(ctx)
        clicked = cards.parse_card_data(ctx.activity.value.action.data)
        if clicked is None:
            return AdaptiveCardActionMessageResponse(value="That button has expired; ask again.")
        if clicked.action in (cards.HELPFUL, cards.NOT_HELPFUL):
            reply = await asyncio.to_thread(replies.feedback, clicked.asked,
                                            clicked.action == cards.HELPFUL, where)
            return AdaptiveCardActionMessageResponse(value=_plain(reply))
        if clicked.action == cards.SHOW_SQL:
            reply = await asyncio.to_thread(replies.sql, clicked.asked, where)
        else:  # a related term or a did-you-mean: its definition, in the same thread
            reply = await asyncio.to_thread(replies.again, clicked.asked, where)
        await bot.send(ctx, reply, reply_to=ctx.activity.reply_to_id)
        return AdaptiveCardActionMessageResponse(value="Answered in the conversation.")

    @app.on_message_ext_query
    @answered_anyway(extension_sorry)
    async def on_search(ctx: Any) -> Any:
        query = next((p.value for p in ctx.activity.value.parameters or [] if p.value), "")
        found = await asyncio.to_thread(search.definitions, replies.services, str(query))
        return MessagingExtensionInvokeResponse(compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.RESULT,
            attachment_layout=MessagingExtensionAttachmentLayout.LIST, attachments=found))

    @app.on_message_ext_submit
    @answered_anyway(extension_sorry)
    async def on_explain(ctx: Any) -> Any:
        value = ctx.activity.value
        payload = value.message_payload
        text = payloads.plain_text(payload.body.content if payload and payload.body else "")
        reply = await asyncio.to_thread(replies.explain, text)
        return MessagingExtensionActionInvokeResponse(compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.MESSAGE, text=_plain(reply)))

    @app.on_install_add
    async def on_install(ctx: Any) -> None:
        where = await bot.where(ctx)
        if where.direct:  # a personal install: say what the bot answers
            await bot.send(ctx, message(_welcome(replies)))

    @app.on_conversation_update
    async def on_conversation_update(ctx: Any) -> None:
        await bot.where(ctx)  # remember where to post this conversation's notifications


def render_message(text: str, reply_to: str | None) -> Any:
    from bot.teams import render

    return render.activity(message(text), reply_to=reply_to)


def _plain(reply: Reply) -> str:
    return from_mrkdwn(reply.text)


def _welcome(replies: Any) -> str:
    return ("Hi! I answer with the governed definitions and metrics of the revenue team. "
            "Ask me _what is an MQL?_, or type `help` for every command.")
