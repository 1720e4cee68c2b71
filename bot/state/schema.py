"""The state store's tables (SQLAlchemy Core), as the newest migration leaves them.

A change here ships with a revision in `bot/state/migrations/versions/`; a test checks that
upgrading an empty store to the newest revision gives exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Slack or Teams: channel, user and conversation ids are only unique within one platform.
SLACK = "slack"
# Teams conversation and user ids run to a few hundred characters; Slack's are about 11.
ID = 300


def surface_column(primary_key: bool = False) -> Column:
    """Which platform a row's channel id is on; rows from before Teams are Slack's."""
    return Column("surface", String(20), primary_key=primary_key, nullable=False,
                  server_default=SLACK)


# Every version of every term and metric definition, oldest first by `id`.
versions = Table(
    "ssot_definition_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("definition_id", String(100), nullable=False),
    Column("kind", String(10), nullable=False),
    # 1, 2, 3… per definition; unique, so two syncs racing cannot both record "the next" one.
    Column("seq", Integer, nullable=False),
    Column("name", String(300), nullable=False),
    Column("version", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("owner", String(300), nullable=False),
    Column("domain", String(50)),
    Column("aliases", Text, nullable=False, default="[]"),
    Column("path", String(500)),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # When it took effect: recorded_at, except the baseline, which is in force since `updated`.
    Column("in_force_from", DateTime(timezone=True), nullable=False),
    Column("change", String(20), nullable=False),
    Column("diff", Text, nullable=False, default=""),
    UniqueConstraint("kind", "definition_id", "seq", name="uq_ssot_versions_seq"),
)

subscriptions = Table(
    "ssot_subscriptions", metadata,
    surface_column(primary_key=True),
    Column("channel", String(ID), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per (version, surface, channel): the unique constraint makes a re-run of a sync
# harmless.
outbox = Table(
    "ssot_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("ssot_definition_versions.id"), nullable=False),
    surface_column(),
    Column("channel", String(ID), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(100)),
    Column("claim", String(40)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    # The posted message's id on its platform: a Slack ts, a Teams activity id.
    Column("posted_id", String(ID)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("version_id", "surface", "channel",
                     name="uq_ssot_outbox_version_surface_channel"),
    Index("ix_ssot_outbox_due", "status", "next_attempt_at"),
)

feedback = Table(
    "ssot_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("question_key", String(500), nullable=False),
    Column("answer_id", String(100)),
    Column("helpful", Boolean, nullable=False),
    surface_column(),
    Column("user", String(ID)),
    Column("channel", String(ID)),
    Column("at", DateTime(timezone=True), nullable=False),
)

unanswered = Table(
    "ssot_unanswered", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("question_key", String(500), nullable=False, index=True),
    surface_column(),
    Column("user", String(ID)),
    Column("channel", String(ID)),
    Column("at", DateTime(timezone=True), nullable=False),
)

autoanswer = Table(
    "ssot_autoanswer", metadata,
    surface_column(primary_key=True),
    Column("channel", String(ID), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Slack retries an event it thinks was lost; the primary key lets exactly one handler win.
processed_events = Table(
    "ssot_processed_events", metadata,
    Column("event_id", String(100), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

bot_threads = Table(
    "ssot_bot_threads", metadata,
    surface_column(primary_key=True),
    Column("channel", String(ID), primary_key=True),
    Column("thread_ts", String(ID), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

# What posting to a conversation later needs: Teams sends proactive messages to the service
# URL and tenant its last activity came from; the name is what people call the channel.
conversations = Table(
    "ssot_conversations", metadata,
    Column("surface", String(20), primary_key=True),
    Column("conversation_id", String(ID), primary_key=True),
    Column("service_url", String(500)),
    Column("tenant_id", String(100)),
    Column("name", String(ID)),
    # personal, channel or groupChat (Teams' conversationType)
    Column("kind", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
