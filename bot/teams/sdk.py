"""The Teams SDK's `App`, imported on first use and built with every option explicit."""

from __future__ import annotations

import logging
import os
from typing import Any

from bot.settings import Settings
from bot.teams.adapter import AsgiAdapter

log = logging.getLogger(__name__)
# Replies and lookups on the Bot Connector: a hung call must not hold an answer for ever.
CONNECTOR_TIMEOUT_S = 10.0


def import_sdk() -> None:
    """Import the SDK without the `.env` it would load into the environment at import time
    (configuration comes only through `Settings`)."""
    before = os.environ.get("PYTHON_DOTENV_DISABLED")
    os.environ["PYTHON_DOTENV_DISABLED"] = "1"
    try:
        import microsoft_teams.apps  # noqa: F401  (about two seconds: only when Teams is served)
    finally:
        if before is None:
            os.environ.pop("PYTHON_DOTENV_DISABLED", None)
        else:
            os.environ["PYTHON_DOTENV_DISABLED"] = before


def admission(settings: Settings):
    """The token check `AsgiAdapter` runs before acknowledging a message early: the SDK's own
    validator for the app's id; in TEAMS_DEV mode every activity is let in."""
    if settings.teams_dev:
        async def anyone(headers: dict[str, str], activity: dict) -> bool:
            return True

        return anyone
    import_sdk()
    from microsoft_teams.apps.auth import InboundActivityTokenValidator

    validator = InboundActivityTokenValidator(settings.teams_client_id or "")

    async def signed(headers: dict[str, str], activity: dict) -> bool:
        authorization = headers.get("authorization", "")
        if not settings.teams_client_id or not authorization.startswith("Bearer "):
            return False
        try:
            await validator.validate_token(authorization.removeprefix("Bearer "),
                                           activity.get("serviceUrl"))
        except Exception as exc:  # every failure is a refusal, never an error
            log.warning("refused a Teams activity: its token did not validate (%s)", exc)
            return False
        return True

    return signed


def new_app(settings: Settings, adapter: AsgiAdapter) -> Any:
    """The SDK app behind `POST /api/messages`: token-checked, or open in TEAMS_DEV mode."""
    import_sdk()
    from microsoft_teams.apps import App
    from microsoft_teams.common import ClientOptions

    # The SDK gives httpx its HTTP client's log level at every client it builds (a few an
    # activity): at INFO, every reply posted would be a log line written on the event loop.
    logging.getLogger("microsoft_teams.common.http.client").setLevel(logging.WARNING)
    common = {"http_server_adapter": adapter, "client": ClientOptions(timeout=CONNECTOR_TIMEOUT_S)}
    if settings.teams_dev:
        log.warning("TEAMS_DEV=1: Teams activities are accepted WITHOUT a Bot Framework token "
                    "and replies are sent without one. For local development only; never "
                    "set it on a server others can reach.")
        return App(dangerously_allow_unauthenticated_requests=True, **common)
    secret = settings.teams_client_secret
    return App(client_id=settings.teams_client_id,
               client_secret=secret.get_secret_value() if secret else None,
               tenant_id=settings.teams_tenant_id,
               dangerously_allow_unauthenticated_requests=False, **common)


def token_provider(settings: Settings) -> Any:
    """What signs calls to the Bot Connector outside a served app (`ssot notify`): the app's
    own token provider, or None in TEAMS_DEV mode, where calls carry no token."""
    if settings.teams_dev:
        return None
    return new_app(settings, AsgiAdapter()).token_provider
