"""The state store as the release before migrations created it (Slack only).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables `metadata.create_all` made before there were migrations."""
    op.create_table(
        "ssot_definition_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("definition_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("domain", sa.String(50)),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("path", sa.String(500)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_force_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.UniqueConstraint("kind", "definition_id", "seq", name="uq_ssot_versions_seq"),
    )
    op.create_table(
        "ssot_subscriptions",
        sa.Column("channel", sa.String(50), primary_key=True),
        sa.Column("target", sa.String(100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ssot_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("ssot_definition_versions.id"),
                  nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claim", sa.String(40)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("slack_ts", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("version_id", "channel", name="uq_ssot_outbox_version_channel"),
    )
    op.create_index("ix_ssot_outbox_due", "ssot_outbox", ["status", "next_attempt_at"])
    op.create_table(
        "ssot_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(500), nullable=False),
        sa.Column("answer_id", sa.String(100)),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("user", sa.String(50)),
        sa.Column("channel", sa.String(50)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ssot_unanswered",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(500), nullable=False),
        sa.Column("user", sa.String(50)),
        sa.Column("channel", sa.String(50)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ssot_unanswered_question_key", "ssot_unanswered", ["question_key"])
    op.create_table(
        "ssot_autoanswer",
        sa.Column("channel", sa.String(50), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ssot_processed_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ssot_bot_threads",
        sa.Column("channel", sa.String(50), primary_key=True),
        sa.Column("thread_ts", sa.String(40), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop every table (an empty database)."""
    for table in ("ssot_bot_threads", "ssot_processed_events", "ssot_autoanswer",
                  "ssot_unanswered", "ssot_feedback", "ssot_outbox", "ssot_subscriptions",
                  "ssot_definition_versions"):
        op.drop_table(table)
