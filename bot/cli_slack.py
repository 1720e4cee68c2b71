"""`ssot serve`: the Slack app, over Socket Mode or HTTP."""

from __future__ import annotations

import gc
import logging
import os
from typing import Annotated

import typer

from bot.cli_common import err, fail, out, settings_or_exit, within


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
    app.command()(serve)


def serve(
    http: Annotated[bool, typer.Option(
        "--http", help="Serve HTTP: POST /slack/events and/or POST /api/messages (Teams), "
        "GET /healthz, GET /readyz; not Socket Mode.")] = False,
    port: Annotated[int, typer.Option(help="HTTP port (with --http).", envvar="PORT")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP address to bind (with --http).")] = "0.0.0.0",
) -> None:
    """Run the bot: Slack over Socket Mode, or Slack and Teams over HTTP with --http."""
    from slack_bolt.error import BoltError

    from bot.health import Health
    from bot.slack.app import SlackConfigError, create_app

    logging.basicConfig(level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if http:
        within(port, "--port", 0, 65535)  # 0: any free port
    settings = settings_or_exit()
    slack, teams = _surfaces(settings, http, host)
    services, store = _services(settings), _store(settings)
    app = bot = None
    try:
        if slack:
            app = create_app(settings, services, store, socket_mode=not http)
    except SlackConfigError as exc:
        raise fail(str(exc), 2) from None
    except BoltError as exc:
        raise fail(f"could not reach Slack at {settings.slack_api_base_url}: {exc}", 1) from None
    if teams:
        from bot.teams.app import create_teams_bot

        bot = create_teams_bot(settings, services, store)
    health = Health()
    stop = _start_background(settings, services, store, _notifiers(settings, store, app, bot),
                             health)
    _freeze_startup_objects()
    try:
        if http:
            _serve_http(app, bot, host, port, _ready(settings, services, store, health))
        else:
            from bot.slack.serving import serve_socket_mode

            out.print("connecting to Slack over Socket Mode")
            serve_socket_mode(app, settings.slack_app_token.get_secret_value())
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def _surfaces(settings, http: bool, host: str) -> tuple[bool, bool]:
    """Which platforms to serve, from what is configured; a half-configured one is an error."""
    from bot.slack.app import SlackConfigError, required

    slack = settings.slack_bot_token is not None
    teams = http and settings.teams
    try:
        if not http:
            required(settings.slack_app_token, "SLACK_APP_TOKEN")
            required(settings.slack_bot_token, "SLACK_BOT_TOKEN")
        elif slack:
            required(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    except SlackConfigError as exc:
        hint = " (or run `ssot serve --http --port N`)" if "APP_TOKEN" in str(exc) else ""
        raise fail(f"{exc}{hint}", 2) from None
    if http and not (slack or teams):
        raise fail("nothing to serve: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, "
                   "or TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID for Teams", 2)
    if teams and settings.teams_dev and host not in ("127.0.0.1", "::1", "localhost"):
        # Unauthenticated activities name the service URL the replies are sent to.
        raise fail("TEAMS_DEV=1 accepts activities without a token: serve it on loopback "
                   "only (--host 127.0.0.1)", 2)
    if teams and not settings.teams_dev and not settings.teams_tenant_id:
        raise fail("TEAMS_TENANT_ID is not set; the Teams app needs it with "
                   "TEAMS_CLIENT_ID and TEAMS_CLIENT_SECRET", 2)
    return slack, teams


def _notifiers(settings, store, app, bot) -> dict:
    """One notifier per platform served: the outbox reaches each through its own."""
    notifiers = {}
    if app is not None:
        from bot.slack.notifier import SlackNotifier

        notifiers["slack"] = SlackNotifier.like(app.client)
    if bot is not None:
        from bot.teams.notifier import TeamsNotifier

        token = None if settings.teams_dev else bot.app.token_provider
        notifiers["teams"] = TeamsNotifier(store, token)
    return notifiers


def _serve_http(app, bot, host: str, port: int, ready) -> None:
    from bot.slack.serving import http_server
    from bot.teams.adapter import MESSAGES_PATH

    routes = {MESSAGES_PATH: bot.route} if bot is not None else {}
    try:
        server = http_server(app, host, port, ready, routes)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise fail(f"cannot listen on {host}:{port}: {reason}", 1) from None
    served = [f"Slack on http://{host}:{server.server_port}/slack/events"] if app else []
    if bot is not None:
        served.append(f"Teams on http://{host}:{server.server_port}{MESSAGES_PATH}")
    out.print(f"serving {' and '.join(served)} (health: /healthz, readiness: /readyz)")
    server.serve_forever()


def _services(settings):
    from bot.factory import build_services
    from knowledge.errors import ContentError
    from metrics.errors import DefinitionError

    try:
        # The model is loaded before the server listens: no question waits for it.
        return build_services(settings, err, load_model=True)
    except (ContentError, DefinitionError) as exc:
        raise fail(f"{len(exc.issues)} problem(s) in the governed content; "
                   "run `ssot validate`") from None


def _store(settings):
    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.errors import UnknownRevision
    from bot.state.store import StateStore

    try:
        store = StateStore.from_url(settings.database_url)
    except UnknownRevision as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the state database: {str(exc).splitlines()[0]}") from None
    if store.migration.changed:
        err.print(str(store.migration), markup=False, soft_wrap=True)
    return store


def _ready(settings, services, store, health):
    """What `/readyz` runs: the background loop, the state store and the warehouse."""
    from bot.health import readiness, report

    engine = services.metrics
    probe = engine.ping if engine is not None else None
    return lambda: report(readiness(health, store, settings.sync_interval_s, probe))


def _start_background(settings, services, store, notifiers, health):
    """Sync, reload and deliver notifications every SSOT_SYNC_INTERVAL_S, and keep the values
    shown beside definitions warm every SSOT_CURRENT_VALUE_REFRESH_S; returns one function to
    stop."""
    from bot.state.runner import start_background

    stops = [start_background(settings, store, notifiers, services, health)]
    if services.current_values is not None:
        stops.append(services.current_values.keep_warm(settings.current_value_refresh_s))

    def stop() -> None:
        for each in reversed(stops):
            each()

    return stop


def _freeze_startup_objects() -> None:
    """Leave what start-up built out of every later garbage collection.

    The model, the index and the glossary are half a million objects that live as long as the
    process. Each full collection walked them all: a third of a second with the interpreter
    stopped, which Slack sees as a burst of slow acknowledgements.
    """
    gc.collect()
    gc.freeze()
