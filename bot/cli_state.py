"""`ssot sync`, `notify`, `gaps`, `history`, `subscribe`, `migrate`: the state store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import err, fail, out, settings_or_exit, within

# The most rows a --limit may ask for: no list is read beyond it, and a number past the
# database's integer range fails inside its driver.
MOST = 1000


def open_store():
    """The state store at DATABASE_URL, upgraded to the newest schema, or a one-line error."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.errors import UnknownRevision
    from bot.state.store import StateStore

    settings = settings_or_exit()
    try:
        return StateStore.from_url(settings.database_url)
    except UnknownRevision as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        message = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise fail(f"cannot open the state store at DATABASE_URL: {message}") from None
    except ValueError as exc:  # a URL SQLAlchemy cannot parse
        raise fail(f"bad DATABASE_URL: {exc}", 2) from None


def sync_command(
    glossary: Annotated[Path | None, typer.Option(help="Glossary folder to sync.")] = None,
    metrics: Annotated[Path | None, typer.Option(help="Metric definitions folder.")] = None,
) -> None:
    """Record changed definitions and queue a notification for each subscribed channel."""
    from bot.state.errors import SyncRefused
    from bot.state.sync import sync

    settings = settings_or_exit()
    store = open_store()
    try:
        report = sync(store, glossary or settings.glossary_dir, metrics or settings.metrics_dir,
                      settings.notify_channel)
    except SyncRefused as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False, soft_wrap=True)
        raise fail(f"refusing to sync: {len(exc.issues)} problem(s); nothing was recorded; "
                   "run `ssot validate`") from None
    if report.baseline:
        out.print(f"baseline: recorded {len(report.changes)} definitions; nobody notified "
                  "(the first sync only records what is there)", soft_wrap=True)
        return
    for change in report.changes:
        version = change.version
        if change.previous_version and change.previous_version != change.version:
            version = f"{change.previous_version} → {version}"
        out.print(f"{change.change:<10} {change.kind:<6} {change.definition_id:<28} {version} "
                  f"({change.status})", markup=False, soft_wrap=True)
    out.print(f"{len(report.changes)} change(s) in {report.definitions} definitions; "
              f"{report.queued} notification(s) queued")


def notify_command(
    limit: Annotated[int, typer.Option(help="Most notifications to post (1 to 1,000).")] = 1000,
) -> None:
    """Post every pending notification to Slack and Teams; exit 1 if some were not delivered."""
    from bot.state.delivery import deliver_pending, failing, undelivered

    within(limit, "--limit", 1, MOST)
    settings = settings_or_exit()
    store = open_store()
    notifier = _notifiers(settings, store)
    report = deliver_pending(store, notifier, limit=limit, docs_base_url=settings.docs_base_url,
                             due_only=False)
    for line in report.errors:
        err.print(f"failed: {line}", markup=False, soft_wrap=True)
    out.print(f"delivered {report.delivered}, failed {report.failed}, "
              f"still pending {report.pending}")
    for surface in sorted({"slack", "teams"} - set(notifier)):
        waiting = store.outbox_counts(surface=surface).get("pending", 0)
        if waiting:
            err.print(f"{waiting} notification(s) wait for {surface.title()}, which is not "
                      "configured here", markup=False, soft_wrap=True)
    if report.pending and not report.errors:  # someone else's rows, or leased by a dead worker
        for channel, status, attempts, error in undelivered(store, limit=10):
            err.print(f"{status}: {channel} after {attempts} attempt(s): {error or '-'}",
                      markup=False, soft_wrap=True)
    # Failed rows are never retried: until someone acts, the channel hears nothing.
    for channel, why in failing(store).items():
        err.print(f"notifications to {channel} are failing: {why}", markup=False,
                  soft_wrap=True)
    if report.pending or report.failed:
        raise typer.Exit(1)


def _notifiers(settings, store) -> dict:
    """A notifier for each platform configured here; rows for another platform stay queued."""
    notifiers = {}
    if settings.slack_bot_token and settings.slack_bot_token.get_secret_value():
        from bot.slack.notifier import SlackNotifier, notification_client

        notifiers["slack"] = SlackNotifier(notification_client(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_base_url))
    if settings.teams:
        from bot.teams.notifier import TeamsNotifier
        from bot.teams.sdk import token_provider

        notifiers["teams"] = TeamsNotifier(store, token_provider(settings))
    if not notifiers:
        raise fail("nothing to post with: set SLACK_BOT_TOKEN for Slack, or TEAMS_CLIENT_ID, "
                   "TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID for Teams", 2)
    return notifiers


def gaps_command(
    limit: Annotated[int, typer.Option(help="How many questions to list (1 to 1,000).")] = 20,
) -> None:
    """The most-asked questions the glossary could not answer (or answered unhelpfully)."""
    gaps = open_store().gaps(within(limit, "--limit", 1, MOST))
    if not gaps:
        out.print("no unanswered questions recorded")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("asked", "last asked", "question", box=None)
    for gap in gaps:
        # What people typed, shown as typed: "[/x]" is not markup to interpret.
        table.add_row(str(gap.count), f"{gap.last_asked:%Y-%m-%d %H:%M}", Text(gap.question))
    out.print(table)


def history_command(
    term: Annotated[str, typer.Argument(help="A term or metric id, name or alias.")],
    metric: Annotated[bool, typer.Option("--metric", help="The metric of that id.")] = False,
) -> None:
    """Every recorded version of a definition, oldest first, with what changed."""
    from bot.state.diffing import diff_summary

    store = open_store()
    found = store.resolve(term, kind="metric" if metric else None)
    if found is None:
        raise fail(f"'{term}' is not in the definition history (run `ssot sync`?)")
    versions = store.history(found.definition_id, kind=found.kind)
    out.print(f"{found.name} ({found.kind} {found.definition_id}): {len(versions)} version(s)",
              markup=False, soft_wrap=True)
    previous = None
    for v in versions:
        since = (v.in_force_from or v.recorded_at).date()
        out.print(f"  {since}  {v.version:<6} {v.status:<10} {v.change:<10} {v.owner}",
                  markup=False, soft_wrap=True)
        if previous is not None and v.change != "removed" and previous.text != v.text:
            out.print(f"      {diff_summary(previous.text, v.text)}", markup=False, soft_wrap=True)
        previous = v


class Surface(StrEnum):
    """The platform a channel id is on."""

    slack = "slack"
    teams = "teams"


SURFACE = typer.Option("--surface", help="The platform the channel is on.")


def subscribe_command(
    channel: Annotated[str, typer.Argument(
        help="Slack channel id (C0123456), or a Teams conversation id with --surface teams.")],
    target: Annotated[str, typer.Argument(help="A term id or alias, a domain, or 'all'.")],
    surface: Annotated[Surface, SURFACE] = Surface.slack,
) -> None:
    """Announce changes to a term, a domain or everything in a channel."""
    store = open_store()
    resolved = _target(store, target)
    added = store.subscribe(channel, resolved, surface=surface.value)
    out.print(f"{channel} {'now hears' if added else 'already hears'} about {resolved}",
              markup=False, soft_wrap=True)
    if surface is Surface.teams and store.conversation(surface.value, channel) is None:
        # Teams is reached through the conversation's own service URL, learnt on install.
        err.print(f"note: the bot has not been added to {channel} yet; its notifications "
                  "wait until it is", markup=False, soft_wrap=True)


def unsubscribe_command(
    channel: Annotated[str, typer.Argument(help="Slack channel id, or Teams conversation id.")],
    target: Annotated[str, typer.Argument(help="What it was subscribed to.")],
    surface: Annotated[Surface, SURFACE] = Surface.slack,
) -> None:
    """Stop announcing changes to a target in a channel."""
    store = open_store()
    resolved = store.resolve_target(target) or target.strip().lower()
    if not store.unsubscribe(channel, resolved, surface=surface.value):
        raise fail(f"{channel} is not subscribed to {resolved}")
    out.print(f"{channel} no longer hears about {resolved}", markup=False, soft_wrap=True)


def _target(store, target: str) -> str:
    resolved = store.resolve_target(target)
    if resolved is None:
        raise fail(f"unknown target '{target}': give a term id or alias, a domain, or 'all' "
                   "(a new store knows them after `ssot sync`)", 2)
    return resolved


def migrate_command() -> None:
    """Upgrade the state store's tables to the newest schema (every command does so first)."""
    out.print(str(open_store().migration), markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
    app.command(name="sync")(sync_command)
    app.command(name="notify")(notify_command)
    app.command(name="gaps")(gaps_command)
    app.command(name="history")(history_command)
    app.command(name="subscribe")(subscribe_command)
    app.command(name="unsubscribe")(unsubscribe_command)
    app.command(name="migrate")(migrate_command)
