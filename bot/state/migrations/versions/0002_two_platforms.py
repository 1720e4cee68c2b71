"""Slack and Teams side by side: a surface on every channel-keyed row, longer ids, and what
posting to a Teams conversation needs.

Every existing row is Slack's (`surface` defaults to 'slack'); keys gain the surface, so a
Teams conversation and a Slack channel with the same id never meet. `slack_ts` becomes
`posted_id`, the posted message's id on either platform. A failed notification's error now
carries what people can do about it (the platform's notifier writes it): the Slack errors
already recorded get theirs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Teams conversation and user ids run to a few hundred characters.
ID = 300
OLD_CHANNEL, OLD_TS = 50, 40
# What the release before said beside these Slack errors (it added them when shown).
REMEDIES = {
    "not_in_channel": "invite the bot with /invite @ssot",
    "channel_not_found": "the channel was deleted, or it is private: /invite @ssot there",
    "is_archived": "the channel is archived: unarchive it, or /ssot unsubscribe here",
    "restricted_action": "a workspace setting stops the bot posting here: ask a Slack admin",
}


def upgrade() -> None:
    """Add the surface, widen the ids, rename slack_ts and add ssot_conversations."""
    with _batch("ssot_subscriptions") as batch:
        _add_surface(batch)
        _widen(batch, "channel", OLD_CHANNEL, ID, nullable=False)
        _rekey(batch, "ssot_subscriptions", "surface", "channel", "target")
    with _batch("ssot_outbox") as batch:
        _add_surface(batch)
        _widen(batch, "channel", OLD_CHANNEL, ID, nullable=False)
        batch.alter_column("slack_ts", new_column_name="posted_id",
                           existing_type=sa.String(OLD_TS), type_=sa.String(ID))
        batch.drop_constraint("uq_ssot_outbox_version_channel", type_="unique")
        batch.create_unique_constraint("uq_ssot_outbox_version_surface_channel",
                                       ["version_id", "surface", "channel"])
    for table in ("ssot_feedback", "ssot_unanswered"):
        with _batch(table) as batch:
            _add_surface(batch)
            _widen(batch, "user", OLD_CHANNEL, ID, nullable=True)
            _widen(batch, "channel", OLD_CHANNEL, ID, nullable=True)
    with _batch("ssot_autoanswer") as batch:
        _add_surface(batch)
        _widen(batch, "channel", OLD_CHANNEL, ID, nullable=False)
        _rekey(batch, "ssot_autoanswer", "surface", "channel")
    with _batch("ssot_bot_threads") as batch:
        _add_surface(batch)
        _widen(batch, "channel", OLD_CHANNEL, ID, nullable=False)
        _widen(batch, "thread_ts", OLD_TS, ID, nullable=False)
        _rekey(batch, "ssot_bot_threads", "surface", "channel", "thread_ts")
    outbox = sa.table("ssot_outbox", sa.column("last_error", sa.Text))
    for error, remedy in REMEDIES.items():
        op.execute(outbox.update().where(outbox.c.last_error == error)
                   .values(last_error=f"{error} -- {remedy}"))
    op.create_table(
        "ssot_conversations",
        sa.Column("surface", sa.String(20), primary_key=True),
        sa.Column("conversation_id", sa.String(ID), primary_key=True),
        sa.Column("service_url", sa.String(500)),
        sa.Column("tenant_id", sa.String(100)),
        sa.Column("name", sa.String(ID)),
        sa.Column("kind", sa.String(20)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Back to Slack only: every row of another surface is deleted, it has no place there."""
    op.drop_table("ssot_conversations")
    outbox = sa.table("ssot_outbox", sa.column("last_error", sa.Text))
    for error, remedy in REMEDIES.items():
        op.execute(outbox.update().where(outbox.c.last_error == f"{error} -- {remedy}")
                   .values(last_error=error))
    for table in ("ssot_subscriptions", "ssot_outbox", "ssot_feedback", "ssot_unanswered",
                  "ssot_autoanswer", "ssot_bot_threads"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE surface <> 'slack'"))
    with _batch("ssot_bot_threads") as batch:
        _rekey(batch, "ssot_bot_threads", "channel", "thread_ts")
        _widen(batch, "thread_ts", ID, OLD_TS, nullable=False)
        _widen(batch, "channel", ID, OLD_CHANNEL, nullable=False)
        batch.drop_column("surface")
    with _batch("ssot_autoanswer") as batch:
        _rekey(batch, "ssot_autoanswer", "channel")
        _widen(batch, "channel", ID, OLD_CHANNEL, nullable=False)
        batch.drop_column("surface")
    for table in ("ssot_feedback", "ssot_unanswered"):
        with _batch(table) as batch:
            _widen(batch, "channel", ID, OLD_CHANNEL, nullable=True)
            _widen(batch, "user", ID, OLD_CHANNEL, nullable=True)
            batch.drop_column("surface")
    with _batch("ssot_outbox") as batch:
        batch.drop_constraint("uq_ssot_outbox_version_surface_channel", type_="unique")
        batch.create_unique_constraint("uq_ssot_outbox_version_channel",
                                       ["version_id", "channel"])
        batch.alter_column("posted_id", new_column_name="slack_ts",
                           existing_type=sa.String(ID), type_=sa.String(OLD_TS))
        _widen(batch, "channel", ID, OLD_CHANNEL, nullable=False)
        batch.drop_column("surface")
    with _batch("ssot_subscriptions") as batch:
        _rekey(batch, "ssot_subscriptions", "channel", "target")
        _widen(batch, "channel", ID, OLD_CHANNEL, nullable=False)
        batch.drop_column("surface")


def _batch(table: str) -> AbstractContextManager[BatchOperations]:
    """Alter `table`: in place on PostgreSQL, by copying it on SQLite."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return op.batch_alter_table(table)
    # SQLite's primary keys have no name and batch mode drops a constraint only by name:
    # the copy is made from the table as it is, its key named as PostgreSQL names it.
    current = sa.Table(table, sa.MetaData(), autoload_with=bind)
    current.primary_key.name = _key_name(table)
    return op.batch_alter_table(table, copy_from=current)


def _key_name(table: str) -> str:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        found = sa.inspect(bind).get_pk_constraint(table).get("name")
        if found:
            return found
    return f"{table}_pkey"


def _add_surface(batch: BatchOperations) -> None:
    batch.add_column(sa.Column("surface", sa.String(20), nullable=False,
                               server_default="slack"))


def _widen(batch: BatchOperations, column: str, old: int, new: int, nullable: bool) -> None:
    batch.alter_column(column, existing_type=sa.String(old), type_=sa.String(new),
                       existing_nullable=nullable)


def _rekey(batch: BatchOperations, table: str, *columns: str) -> None:
    name = _key_name(table)
    batch.drop_constraint(name, type_="primary")
    batch.create_primary_key(name, list(columns))
