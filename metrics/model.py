"""The warehouse's contract tables, the dimensions reachable from each, and named conditions.

Metric definitions refer to these by name, so a definition file can never smuggle SQL in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("account_id", sa.BigInteger), sa.Column("name", sa.Text),
    sa.Column("domain", sa.Text), sa.Column("segment", sa.Text), sa.Column("region", sa.Text),
    sa.Column("industry", sa.Text), sa.Column("created_at", sa.DateTime),
)
users = sa.Table(
    "users", metadata,
    sa.Column("user_id", sa.BigInteger), sa.Column("name", sa.Text), sa.Column("team", sa.Text),
    sa.Column("region", sa.Text), sa.Column("segment", sa.Text),
)
contacts = sa.Table(
    "contacts", metadata,
    sa.Column("contact_id", sa.BigInteger), sa.Column("account_id", sa.BigInteger),
    sa.Column("email", sa.Text), sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text), sa.Column("title", sa.Text),
    sa.Column("created_at", sa.DateTime), sa.Column("source_system", sa.Text),
)
campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("campaign_id", sa.BigInteger), sa.Column("name", sa.Text),
    sa.Column("channel", sa.Text), sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date), sa.Column("cost", sa.Numeric(18, 2)),
)
leads = sa.Table(
    "leads", metadata,
    sa.Column("lead_id", sa.BigInteger), sa.Column("contact_id", sa.BigInteger),
    sa.Column("account_id", sa.BigInteger), sa.Column("campaign_id", sa.BigInteger),
    sa.Column("source", sa.Text), sa.Column("created_at", sa.DateTime),
    sa.Column("mql_at", sa.DateTime), sa.Column("sql_at", sa.DateTime),
    sa.Column("first_follow_up_at", sa.DateTime),
    sa.Column("converted_opportunity_id", sa.BigInteger),
)
touches = sa.Table(
    "touches", metadata,
    sa.Column("touch_id", sa.BigInteger), sa.Column("contact_id", sa.BigInteger),
    sa.Column("account_id", sa.BigInteger), sa.Column("campaign_id", sa.BigInteger),
    sa.Column("touched_at", sa.DateTime), sa.Column("channel", sa.Text),
    sa.Column("kind", sa.Text),
)
opportunities = sa.Table(
    "opportunities", metadata,
    sa.Column("opportunity_id", sa.BigInteger), sa.Column("account_id", sa.BigInteger),
    sa.Column("owner_id", sa.BigInteger), sa.Column("created_at", sa.DateTime),
    sa.Column("close_date", sa.Date), sa.Column("stage", sa.Text),
    sa.Column("amount", sa.Numeric(18, 2)), sa.Column("is_closed", sa.Boolean),
    sa.Column("is_won", sa.Boolean), sa.Column("source", sa.Text), sa.Column("type", sa.Text),
    sa.Column("segment", sa.Text), sa.Column("region", sa.Text),
)
quotas = sa.Table(
    "quotas", metadata,
    sa.Column("owner_id", sa.BigInteger), sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date), sa.Column("amount", sa.Numeric(18, 2)),
)
spend = sa.Table(
    "spend", metadata,
    sa.Column("month", sa.Date), sa.Column("team", sa.Text),
    sa.Column("amount", sa.Numeric(18, 2)),
)

TABLES = {t.name: t for t in metadata.sorted_tables}


@dataclass(frozen=True)
class Join:
    """A many-to-one join from a fact table to the table a dimension lives on."""

    table: sa.Table
    on: Callable[[sa.FromClause, sa.FromClause], sa.ColumnElement[bool]]


JOINS: dict[tuple[str, str], Join] = {
    ("leads", "accounts"): Join(accounts, lambda f, d: f.c.account_id == d.c.account_id),
    ("quotas", "users"): Join(users, lambda f, d: f.c.owner_id == d.c.user_id),
}

# dimension name -> (table holding the column, column), per fact table.
DIMENSIONS: dict[str, dict[str, tuple[str, str]]] = {
    "opportunities": {d: ("opportunities", d) for d in ("segment", "region", "source", "type")},
    "leads": {"source": ("leads", "source"), "segment": ("accounts", "segment"),
              "region": ("accounts", "region")},
    "quotas": {"segment": ("users", "segment"), "region": ("users", "region")},
}


def _won_converted_opportunity(fact: sa.FromClause) -> sa.ColumnElement[bool]:
    won = opportunities.alias("converted")
    return sa.exists().where(won.c.opportunity_id == fact.c.converted_opportunity_id,
                             won.c.is_won.is_(True))


def _marketing_touch_in_window(fact: sa.FromClause) -> sa.ColumnElement[bool]:
    touch = touches.alias("touch")
    touched_on = sa.cast(touch.c.touched_at, sa.Date)
    opened_on = sa.cast(fact.c.created_at, sa.Date)
    return sa.exists().where(
        touch.c.account_id == fact.c.account_id, touch.c.kind == "marketing",
        touched_on >= opened_on - sa.text("INTERVAL '90 days'"),
        touched_on <= fact.c.close_date,
    )


def _email_shared(fact: sa.FromClause) -> sa.ColumnElement[bool]:
    other = contacts.alias("other")
    shared = (sa.select(sa.func.lower(other.c.email)).where(other.c.email.is_not(None))
              .group_by(sa.func.lower(other.c.email)).having(sa.func.count() > 1))
    return sa.func.lower(fact.c.email).in_(shared)


# Conditions too structural for a column filter, named so definitions can cite them.
CONDITIONS: dict[str, tuple[str, Callable[[sa.FromClause], sa.ColumnElement[bool]]]] = {
    "converted_to_won_opportunity": ("leads", _won_converted_opportunity),
    "marketing_touch_90_days_before_open_to_close": ("opportunities", _marketing_touch_in_window),
    "email_shared_with_another_contact": ("contacts", _email_shared),
}
