"""The warehouse's contract tables, the dimensions reachable from each, named conditions, and
period tables (relations computed for the asked period, such as each customer's MRR at its start
and at its end).

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
opportunity_stage_history = sa.Table(
    "opportunity_stage_history", metadata,
    sa.Column("opportunity_id", sa.BigInteger), sa.Column("stage", sa.Text),
    sa.Column("entered_at", sa.DateTime),
    # The entry's place in the opportunity's history: 1, 2, 3, ... with no gaps.
    sa.Column("stage_order", sa.Integer),
)
# Billing, the system of record for revenue: one row per subscription line, active from
# start_date until the day before end_date (end_date is the first day it no longer runs; NULL
# while it keeps renewing). A downgrade ends a line and starts a smaller one the same day.
subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("subscription_id", sa.BigInteger), sa.Column("account_id", sa.BigInteger),
    sa.Column("opportunity_id", sa.BigInteger), sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date), sa.Column("mrr", sa.Numeric(18, 2)),
)
# Marketing automation's own person records, linked to CRM contacts by identity resolution.
ma_contacts = sa.Table(
    "ma_contacts", metadata,
    sa.Column("ma_contact_id", sa.BigInteger), sa.Column("email", sa.Text),
    sa.Column("source", sa.Text), sa.Column("created_at", sa.DateTime),
)
identity_map = sa.Table(
    "identity_map", metadata,
    sa.Column("ma_contact_id", sa.BigInteger), sa.Column("crm_contact_id", sa.BigInteger),
    sa.Column("status", sa.Text),  # confirmed | pending_review
    sa.Column("matched_at", sa.DateTime),
)
source_systems = sa.Table(
    "source_systems", metadata,
    sa.Column("source_system", sa.Text), sa.Column("name", sa.Text),
    sa.Column("load_every_minutes", sa.Integer),
)
# One row per sync run of one integration; records_failed still failed after the retries.
sync_runs = sa.Table(
    "sync_runs", metadata,
    sa.Column("sync_run_id", sa.BigInteger), sa.Column("source_system", sa.Text),
    sa.Column("target_system", sa.Text), sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime), sa.Column("status", sa.Text),  # success | failed
    sa.Column("records_sent", sa.BigInteger), sa.Column("records_failed", sa.BigInteger),
)

TABLES = {t.name: t for t in metadata.sorted_tables}


@dataclass(frozen=True)
class Join:
    """A many-to-one join from a fact table to the table a dimension lives on."""

    table: sa.Table
    on: Callable[[sa.FromClause, sa.FromClause], sa.ColumnElement[bool]]


def _by_account(f: sa.FromClause, d: sa.FromClause) -> sa.ColumnElement[bool]:
    return f.c.account_id == d.c.account_id


def _by_owner(f: sa.FromClause, d: sa.FromClause) -> sa.ColumnElement[bool]:
    return f.c.owner_id == d.c.user_id


JOINS: dict[tuple[str, str], Join] = {
    ("leads", "accounts"): Join(accounts, _by_account),
    ("quotas", "users"): Join(users, _by_owner),
    ("opportunities", "users"): Join(users, _by_owner),
    ("subscriptions_at_period_end", "accounts"): Join(accounts, _by_account),
    ("customers_at_period_start", "accounts"): Join(accounts, _by_account),
    ("last_successful_loads", "source_systems"): Join(
        source_systems, lambda f, d: f.c.source_system == d.c.source_system),
}

# dimension name -> (table holding the column, column), per fact table. A period table's
# dimensions live on contract tables, where their values can be listed.
_ACCOUNT_DIMENSIONS = {"segment": ("accounts", "segment"), "region": ("accounts", "region")}
DIMENSIONS: dict[str, dict[str, tuple[str, str]]] = {
    "opportunities": {**{d: ("opportunities", d) for d in ("segment", "region", "source",
                                                           "type")},
                      "owner": ("users", "name")},
    "leads": {"source": ("leads", "source"), **_ACCOUNT_DIMENSIONS},
    "quotas": {"segment": ("users", "segment"), "region": ("users", "region"),
               "owner": ("users", "name")},
    "subscriptions_at_period_end": _ACCOUNT_DIMENSIONS,
    "customers_at_period_start": _ACCOUNT_DIMENSIONS,
    "last_successful_loads": {"source_system": ("source_systems", "source_system")},
    "sync_runs": {"source_system": ("sync_runs", "source_system"),
                  "target_system": ("sync_runs", "target_system")},
    "ma_contacts": {"source": ("ma_contacts", "source")},
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


def _linked_to_crm_contact(fact: sa.FromClause) -> sa.ColumnElement[bool]:
    link, crm = identity_map.alias("link"), contacts.alias("crm")
    return sa.exists().where(link.c.ma_contact_id == fact.c.ma_contact_id,
                             link.c.status == "confirmed",
                             crm.c.contact_id == link.c.crm_contact_id)


CLOSED_STAGES = ("Closed Won", "Closed Lost")
REOPEN_WITHIN_DAYS = 90


def _stage_history_follows_the_rules(fact: sa.FromClause) -> sa.ColumnElement[bool]:
    """The opportunity stage guide: a closed opportunity never moves back to an open stage,
    except a Closed Lost one that Sales Operations reopens within 90 days; Closed Won is locked.
    So after Closed Won nothing follows, and after Closed Lost only an open stage within 90
    days of it."""
    moved_from = opportunity_stage_history.alias("moved_from")
    moved_to = opportunity_stage_history.alias("moved_to")
    late = moved_from.c.entered_at + sa.text(f"INTERVAL '{REOPEN_WITHIN_DAYS} days'")
    return ~sa.exists().where(
        moved_from.c.opportunity_id == fact.c.opportunity_id,
        _closed(moved_from.c.stage),
        moved_to.c.opportunity_id == moved_from.c.opportunity_id,
        moved_to.c.stage_order == moved_from.c.stage_order + 1,
        sa.or_(moved_from.c.stage == "Closed Won", _closed(moved_to.c.stage),
               moved_to.c.entered_at > late),
    )


def _closed(stage: sa.ColumnElement) -> sa.ColumnElement[bool]:
    # Equalities, not IN: an IN list is expanded when the statement runs, and the engine sends
    # the compiled text as it is.
    return sa.or_(*(stage == name for name in CLOSED_STAGES))


# Conditions too structural for a column filter, named so definitions can cite them.
CONDITIONS: dict[str, tuple[str, Callable[[sa.FromClause], sa.ColumnElement[bool]]]] = {
    "converted_to_won_opportunity": ("leads", _won_converted_opportunity),
    "marketing_touch_90_days_before_open_to_close": ("opportunities", _marketing_touch_in_window),
    "email_shared_with_another_contact": ("contacts", _email_shared),
    "linked_to_crm_contact": ("ma_contacts", _linked_to_crm_contact),
    "stage_history_follows_the_rules": ("opportunities", _stage_history_follows_the_rules),
}


@dataclass(frozen=True)
class Moments:
    """What a period table is computed for, as bound parameters: the period's first day, the
    day its snapshot is taken at the start of (the day after the period, or after today if the
    period has not ended), and the instant it is taken at (that midnight, or now)."""

    start: sa.ColumnElement
    end: sa.ColumnElement
    at: sa.ColumnElement


@dataclass(frozen=True)
class PeriodTable:
    """A relation computed for the asked period; `shape` lists the columns definitions use."""

    shape: sa.Table
    build: Callable[[Moments], sa.Select]


def _active_at(lines: sa.FromClause, day: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Running when `day` begins: started before it, not ended before it."""
    return sa.and_(lines.c.start_date < day,
                   sa.or_(lines.c.end_date.is_(None), lines.c.end_date >= day))


def _started(m: Moments) -> sa.ColumnElement[bool]:
    """A period that starts after today has no snapshot yet, rather than today's."""
    return m.start < m.end


def _subscriptions_at_period_end(m: Moments) -> sa.Select:
    return sa.select(subscriptions).where(_active_at(subscriptions, m.end), _started(m))


def _customers_at_period_start(m: Moments) -> sa.Select:
    lines = subscriptions
    at_start, at_end = _active_at(lines, m.start), _active_at(lines, m.end)
    start_mrr = sa.func.sum(sa.case((at_start, lines.c.mrr)))
    end_mrr = sa.func.coalesce(sa.func.sum(sa.case((at_end, lines.c.mrr))), 0)
    return (sa.select(lines.c.account_id, start_mrr.label("start_mrr"),
                      end_mrr.label("end_mrr"),
                      sa.func.least(start_mrr, end_mrr).label("retained_mrr"),
                      (end_mrr > 0).label("still_customer"))
            .where(sa.or_(at_start, at_end), _started(m))
            .group_by(lines.c.account_id)
            .having(start_mrr > 0))


def _last_successful_loads(m: Moments) -> sa.Select:
    runs = sync_runs
    last = sa.func.max(runs.c.finished_at)
    hours = (sa.extract("epoch", m.at) - sa.extract("epoch", last)) / 3600.0
    return (sa.select(runs.c.source_system, last.label("last_loaded_at"),
                      hours.label("hours_since_load"))
            .where(runs.c.target_system == "data_warehouse", runs.c.status == "success",
                   runs.c.finished_at <= m.at, _started(m))
            .group_by(runs.c.source_system))


_shapes = sa.MetaData()
PERIOD_TABLES: dict[str, PeriodTable] = {
    # Subscription lines running at the end of the period (or now).
    "subscriptions_at_period_end": PeriodTable(
        sa.Table("subscriptions_at_period_end", _shapes,
                 *(sa.Column(c.name, c.type) for c in subscriptions.c)),
        _subscriptions_at_period_end),
    # One row per account that was a customer (MRR above zero) when the period started: its
    # MRR then, at the end of the period (or now), the smaller of the two, and whether it still
    # has MRR.
    "customers_at_period_start": PeriodTable(
        sa.Table("customers_at_period_start", _shapes, sa.Column("account_id", sa.BigInteger),
                 sa.Column("start_mrr", sa.Numeric(18, 2)),
                 sa.Column("end_mrr", sa.Numeric(18, 2)),
                 sa.Column("retained_mrr", sa.Numeric(18, 2)),
                 sa.Column("still_customer", sa.Boolean)),
        _customers_at_period_start),
    # One row per source system: its last successful load into the data warehouse by the end
    # of the period (or now), and the hours since.
    "last_successful_loads": PeriodTable(
        sa.Table("last_successful_loads", _shapes, sa.Column("source_system", sa.Text),
                 sa.Column("last_loaded_at", sa.DateTime),
                 sa.Column("hours_since_load", sa.Double)),
        _last_successful_loads),
}
