"""`create_app`: the Bolt app over `Services` and the state store. Nothing is built at import."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pydantic import SecretStr
from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.chat.replies import Replies
from bot.services import Services
from bot.settings import Settings
from bot.slack import actions, commands, events, home, shortcuts
from bot.slack.audience import SlackAudiences
from bot.slack.background import Background
from bot.slack.keepalive import KeepAliveWebClient
from bot.slack.once import once_per_event
from bot.state.store import StateStore

WORKERS = 4
# A lookup slower than this grants nothing rather than keep a person waiting (Slack's own
# answers take well under half a second).
LOOKUP_TIMEOUT_S = 1.5


class SlackConfigError(ValueError):
    """The app cannot start: a required Slack setting is missing."""


def create_app(settings: Settings, services: Services, store: StateStore, *,
               socket_mode: bool = False) -> App:
    """The Slack app, with every listener registered; raises SlackConfigError if unconfigured.

    Over HTTP every request must carry a signature made with SLACK_SIGNING_SECRET; in Socket
    Mode requests arrive on a connection the app opened itself, so the secret is not needed.
    """
    client = web_client(settings)
    secret = settings.slack_signing_secret
    if socket_mode:
        secret = secret.get_secret_value() if secret else ""
    else:
        secret = required(secret, "SLACK_SIGNING_SECRET")
    app = App(
        client=client,
        signing_secret=secret,
        # Listeners only ack before the HTTP response; `Background` runs the work after it.
        process_before_response=True,
    )
    background = Background(WORKERS)
    app.middleware(_shared_client(client))
    app.middleware(background.middleware)
    app.middleware(once_per_event(store, ThreadPoolExecutor(2, thread_name_prefix="slack-claim")))
    # Who may see restricted metrics is looked up in Slack, on its own short timeout: a slow
    # lookup delays only the question that needs it, and then grants nothing.
    audiences = SlackAudiences(web_client(settings, timeout_s=LOOKUP_TIMEOUT_S))
    replies = Replies(services, store, settings.docs_base_url, settings.owners,
                      audience=audiences.audience, conversation=audiences.conversation)
    for module in (events, commands, actions, shortcuts, home):
        module.register(app, replies, background)
    return app


def web_client(settings: Settings, timeout_s: float = 30.0) -> WebClient:
    """The Web API client, pointed at `SLACK_API_BASE_URL` (GovSlack, or a test stand-in)."""
    return KeepAliveWebClient(
        token=required(settings.slack_bot_token, "SLACK_BOT_TOKEN"),
        base_url=settings.slack_api_base_url, timeout=timeout_s,
        retry_handlers=[ConnectionErrorRetryHandler(),
                        RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def _shared_client(client: WebClient) -> Callable[..., BoltResponse]:
    """Every request posts through the app's client, not a new one of Bolt's.

    Bolt gives each request a fresh WebClient, in case a listener changes its token; ours
    changes nothing, is safe to share between threads and keeps its connection to Slack open.
    """

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["client"] = client
        context.pop("say", None)  # Bolt made it with its own client; rebuilt from ours on use
        return next()

    return middleware


def required(secret: SecretStr | None, variable: str) -> str:
    """The secret's value, or a one-line error naming the environment variable."""
    value = secret.get_secret_value().strip() if secret else ""
    if not value:
        raise SlackConfigError(f"{variable} is not set; the Slack app needs it to start")
    return value

