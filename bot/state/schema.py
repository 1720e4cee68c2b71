"""The state store's tables (SQLAlchemy Core). `create_all` is idempotent; no migrations yet."""

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
    Column("channel", String(50), primary_key=True),
    Column("target", String(100), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per (version, channel): the unique constraint makes a re-run of a sync harmless.
outbox = Table(
    "ssot_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("ssot_definition_versions.id"), nullable=False),
    Column("channel", String(50), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(100)),
    Column("claim", String(40)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Column("slack_ts", String(40)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("version_id", "channel", name="uq_ssot_outbox_version_channel"),
    Index("ix_ssot_outbox_due", "status", "next_attempt_at"),
)

feedback = Table(
    "ssot_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("question_key", String(500), nullable=False),
    Column("answer_id", String(100)),
    Column("helpful", Boolean, nullable=False),
    Column("user", String(50)),
    Column("channel", String(50)),
    Column("at", DateTime(timezone=True), nullable=False),
)

unanswered = Table(
    "ssot_unanswered", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("question_key", String(500), nullable=False, index=True),
    Column("user", String(50)),
    Column("channel", String(50)),
    Column("at", DateTime(timezone=True), nullable=False),
)

autoanswer = Table(
    "ssot_autoanswer", metadata,
    Column("channel", String(50), primary_key=True),
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
    Column("channel", String(50), primary_key=True),
    Column("thread_ts", String(40), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
