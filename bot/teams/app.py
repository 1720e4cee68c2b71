"""`TeamsBot`: the Teams SDK app over the chat core. Nothing is built at import.

Handlers are async and thin: translate the activity, run the synchronous core on a worker
thread (`asyncio.to_thread`), render, send. A message is answered after its HTTP request is
acknowledged, so a burst of questions never holds the Bot Connector's requests open; card
clicks and message-extension queries are answered in the invoke's own HTTP response.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from typing import Any

from bot.chat import conversation
from bot.chat.conversation import Message, Threaded
from bot.chat.replies import Replies
from bot.chat.reply import Reply, Where, message
from bot.chat.words import TYPED
from bot.services import SORRY, Services
from bot.settings import Settings
from bot.state.recorder import Recorder
from bot.state.store import StateStore
from bot.teams import payloads, render
from bot.teams.adapter import AsgiAdapter
from bot.teams.charts import chart_activity
from bot.teams.directory import ChannelNames
from bot.teams.groups import GroupDirectory
from bot.teams.sdk import admission, new_app

log = logging.getLogger(__name__)
# Answers written at once: more only queue on the Bot Connector client's connection pool.
ANSWERING = 8
# The longest an answer waits for a burst of activities to be acknowledged first.
ACK_FIRST_S = 0.5
NOT_HERE = ("That answer shows a restricted number this conversation may not see, so I "
            "cannot post it here. Ask me in a personal chat.")


def create_teams_bot(settings: Settings, services: Services, store: StateStore,
                     recorder: Recorder | None = None) -> TeamsBot:
    """The Teams app over the shared core, its route registered and ready to serve."""
    replies = Replies(services, store, settings.docs_base_url, settings.owners,
                      recorder=recorder, words=TYPED)
    bot = TeamsBot(settings, replies)
    bot.start()
    return bot


def _groups(settings: Settings, app: Any) -> GroupDirectory | None:
    """Where the app may read group membership, the directory that looks it up."""
    if not settings.teams_graph_groups:
        return None

    async def token(tenant: str | None) -> str | None:
        return str(await app.token_provider.get_app_token(app.cloud.graph_scope, tenant))

    return GroupDirectory(settings.teams_graph_url, None if settings.teams_dev else token)


class TeamsBot:
    """Serves `POST /api/messages` (via `route`) for the Replies it is given."""

    def __init__(self, settings: Settings, replies: Replies) -> None:
        self.replies = replies
        self.adapter = AsgiAdapter(admit=admission(settings))
        self.app = new_app(settings, self.adapter)
        self.names = ChannelNames()
        self.groups = _groups(settings, self.app)
        self._answering: asyncio.Semaphore | None = None
        self._remembered: dict[str, str] = {}  # conversation id -> service URL stored
        from bot.teams import handlers

        handlers.register(self.app, self)

    def start(self) -> None:
        """Register the SDK's route (before the server serves its first request)."""
        asyncio.run(self.app.initialize())

    @property
    def route(self):
        """The ASGI callable for `POST /api/messages`."""
        return self.adapter.handle

    async def where(self, ctx: Any, remember: bool = True) -> Where:
        """Who wrote the activity and where; a channel's name is looked up (fails closed).

        `remember=False`: the caller remembers the conversation itself, once it has answered.
        """
        activity = ctx.activity
        name = None
        if activity.conversation.conversation_type == "channel":
            name = await self.names.name(ctx.api, payloads.team_of(activity),
                                         payloads.channel_of(activity.conversation.id))
        where = payloads.where_from(activity, name)
        if self.groups is not None:
            groups = await self.groups.groups_of(getattr(activity.from_, "aad_object_id", None),
                                                 activity.conversation.tenant_id)
            where = dataclasses.replace(where, groups=groups)
        if remember:
            self.remember(ctx, where)
        return where

    def remember(self, ctx: Any, where: Where) -> None:
        """Keep where to post notifications to this conversation (once per service URL)."""
        ref = ctx.conversation_ref
        if not where.channel or self._remembered.get(where.channel) == ref.service_url:
            return
        self._remembered[where.channel] = ref.service_url
        store = self.replies.store
        remember = functools.partial(
            store.remember_conversation, service_url=ref.service_url,
            tenant_id=ref.conversation.tenant_id, name=where.channel_name,
            kind=ctx.activity.conversation.conversation_type)
        self.replies.recorder.record(remember, payloads.SURFACE, where.channel)

    async def drain(self) -> None:
        """Wait for the answers still being written (tests, shutdown)."""
        await self.adapter.drain()

    async def answer(self, ctx: Any, message_: Message, mentioned: bool) -> None:
        """Answer a message whose HTTP request the adapter has acknowledged already."""
        if self._answering is None:
            self._answering = asyncio.Semaphore(ANSWERING)
        try:
            await self.adapter.quiet(ACK_FIRST_S)
            async with self._answering:
                # Rendered on the worker thread too: the event loop only posts it.
                decided = await asyncio.to_thread(self._decide, message_, mentioned,
                                                  ctx.activity.id)
                if decided is None:
                    return
                threaded, activity = decided
                await ctx.send(activity)
            await self._chart(ctx, threaded.reply)
            if threaded.thread and not message_.where.direct:
                mark = functools.partial(self.replies.store.mark_thread,
                                         surface=payloads.SURFACE)
                self.replies.recorder.record(mark, message_.where.channel, threaded.thread)
        except Exception:  # nothing silent: an apology in the conversation, the cause logged
            log.exception("answering a Teams message failed")
            try:
                await ctx.send(render.activity(message(SORRY), reply_to=ctx.activity.id))
            except Exception:
                log.exception("could not even apologise in %s", message_.where.channel)
        finally:
            # A first message's conversation is stored after its answer is out: the write
            # would otherwise share the interpreter with the answer being computed.
            self.remember(ctx, message_.where)

    async def _chart(self, ctx: Any, reply: Reply) -> None:
        """The reply's chart under it, if it has one; a failure leaves the reply standing."""
        currency = getattr(self.replies.services.metrics, "currency", "USD")
        chart = await asyncio.to_thread(chart_activity, reply, ctx.activity.id, currency)
        if chart is None:
            return
        try:
            await ctx.send(chart)
        except Exception as exc:
            log.warning("the chart of a reply was not posted: %s", exc)

    def _decide(self, message_: Message, mentioned: bool, reply_to: str | None
                ) -> tuple[Threaded, Any] | None:
        if message_.where.direct:
            threaded = conversation.answer_direct(self.replies, message_)
        elif mentioned:
            threaded = conversation.answer_mention(self.replies, message_)
        else:
            threaded = conversation.answer_message(self.replies, message_)
        if threaded is None:
            return None
        return threaded, outgoing(threaded.reply, message_.where, reply_to)

    async def send(self, ctx: Any, reply: Reply, message_: Message | None = None,
                   reply_to: str | None = None) -> None:
        """Post a reply into the activity's conversation (its thread, in a channel)."""
        where = message_.where if message_ else None
        await ctx.send(outgoing(reply, where, reply_to or ctx.activity.id))


def outgoing(reply: Reply, where: Where | None, reply_to: str | None) -> Any:
    """The message activity for a reply; a restricted one is posted only in a personal chat."""
    if reply.private and not (where and where.direct):
        reply = message(NOT_HERE)
    return render.activity(reply, reply_to=reply_to)
