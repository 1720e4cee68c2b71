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
        "--http", help="Serve POST /slack/events and GET /healthz, not Socket Mode.")] = False,
    port: Annotated[int, typer.Option(help="HTTP port (with --http).", envvar="PORT")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP address to bind (with --http).")] = "0.0.0.0",
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, or HTTP with --http."""
    from slack_bolt.error import BoltError

    from bot.health import Health
    from bot.slack.app import SlackConfigError, create_app, required
    from bot.slack.serving import http_server, serve_socket_mode

    logging.basicConfig(level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if http:
        within(port, "--port", 0, 65535)  # 0: any free port
    settings = settings_or_exit()
    try:
        app_token = None if http else required(settings.slack_app_token, "SLACK_APP_TOKEN")
        required(settings.slack_bot_token, "SLACK_BOT_TOKEN")
        if http:
            required(settings.slack_signing_secret, "SLACK_SIGNING_SECRET")
    except SlackConfigError as exc:
        hint = " (or run `ssot serve --http --port N`)" if "APP_TOKEN" in str(exc) else ""
        raise fail(f"{exc}{hint}", 2) from None
    services, store = _services(settings), _store(settings)
    try:
        app = create_app(settings, services, store, socket_mode=not http)
    except BoltError as exc:
        raise fail(f"could not reach Slack at {settings.slack_api_base_url}: {exc}", 1) from None
    health = Health()
    stop = _start_background(settings, services, store, app.client, health)
    _freeze_startup_objects()
    try:
        if http:
            try:
                server = http_server(app, host, port, _ready(settings, services, store, health))
            except OSError as exc:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise fail(f"cannot listen on {host}:{port}: {reason}", 1) from None
            out.print(f"serving Slack on http://{host}:{server.server_port}/slack/events "
                      "(health: /healthz, readiness: /readyz)")
            server.serve_forever()
        else:
            out.print("connecting to Slack over Socket Mode")
            serve_socket_mode(app, app_token)
    except KeyboardInterrupt:
        pass
    finally:
        stop()


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


def _start_background(settings, services, store, client, health):
    """Sync, reload and deliver notifications every SSOT_SYNC_INTERVAL_S, and keep the values
    shown beside definitions warm every SSOT_CURRENT_VALUE_REFRESH_S; returns one function to
    stop."""
    from bot.slack.notifier import SlackNotifier
    from bot.state.runner import start_background

    stops = [start_background(settings, store, SlackNotifier.like(client), services, health)]
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
