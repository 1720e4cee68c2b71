"""Hand-written reference SQL for every required metric: the yardstick for the query engine.

Written from the metric meanings in the issue, independently of the semantic layer. The same text
runs on DuckDB and PostgreSQL through a SQLAlchemy `Connection`; the period is bound as `:start`
and `:end` (dates, end exclusive), filter values as bound parameters too.

`reference_value(conn, metric_id, start, end)` returns a float, or None when the value is
undefined (a zero or NULL denominator, or a SUM/AVG over no rows). With `by`, it returns
`{group: value}` over every group present in any of the metric's inputs; a group missing from an
input, or with a zero denominator, gets None. The group is the dimension value for `by="segment"`
and a tuple for `by=("segment", "region")`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Connection, text

GROSS_MARGIN = 0.8
ANNUAL_CHURN = 0.15
TRAILING_DAYS = 365

OPPORTUNITY_DIMS = {"segment": "o.segment", "region": "o.region", "source": "o.source",
                    "type": "o.type"}
LEAD_DIMS = {"source": "l.source", "segment": "a.segment", "region": "a.region"}
QUOTA_DIMS = {"segment": "u.segment", "region": "u.region"}
NO_DIMS: dict[str, str] = {}

# ---- the hand-written queries; {keys}, {filters} and {group} add the breakdown and filters ----

BOOKINGS = """
SELECT {keys} SUM(o.amount) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

MARKETING_ORIGINATED = """
SELECT {keys} SUM(o.amount) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.source = 'marketing'
  AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

MARKETING_INFLUENCED = """
SELECT {keys} SUM(o.amount) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
  AND EXISTS (
    SELECT 1 FROM touches t
    WHERE t.account_id = o.account_id AND t.kind = 'marketing'
      AND CAST(t.touched_at AS DATE) >= CAST(o.created_at AS DATE) - 90
      AND CAST(t.touched_at AS DATE) <= o.close_date)
{group}"""

WIN_RATE = """
SELECT {keys} SUM(CASE WHEN o.is_won = TRUE THEN 1 ELSE 0 END) AS won, COUNT(*) AS closed
FROM opportunities o
WHERE o.is_closed = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

AVERAGE_DEAL_SIZE = """
SELECT {keys} AVG(o.amount) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

SALES_CYCLE_LENGTH = """
SELECT {keys} AVG(o.close_date - CAST(o.created_at AS DATE)) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

OPEN_PIPELINE = """
SELECT {keys} SUM(o.amount) AS v
FROM opportunities o
WHERE o.is_closed = FALSE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

OPEN_COUNT = """
SELECT {keys} COUNT(*) AS v
FROM opportunities o
WHERE o.is_closed = FALSE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

QUOTA = """
SELECT {keys} SUM(q.amount) AS v
FROM quotas q JOIN users u ON u.user_id = q.owner_id
WHERE q.period_start >= :start AND q.period_start < :end {filters}
{group}"""

QUOTA_ALL = """
SELECT SUM(q.amount) AS v FROM quotas q WHERE q.period_start >= :start AND q.period_start < :end"""

NEW_CUSTOMERS = """
SELECT COUNT(DISTINCT o.account_id) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.type = 'new_business'
  AND o.close_date >= :start AND o.close_date < :end"""

SPEND = """
SELECT SUM(s.amount) AS v FROM spend s WHERE s.month >= :start AND s.month < :end"""

NEW_BUSINESS_AVERAGE = """
SELECT {keys} AVG(o.amount) AS v
FROM opportunities o
WHERE o.is_won = TRUE AND o.type = 'new_business'
  AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

MQL_COUNT = """
SELECT {keys} COUNT(*) AS v
FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id
WHERE l.mql_at >= :start AND l.mql_at < :end {filters}
{group}"""

SQL_COUNT = """
SELECT {keys} COUNT(*) AS v
FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id
WHERE l.sql_at >= :start AND l.sql_at < :end {filters}
{group}"""

MQL_TO_SQL = """
SELECT {keys} SUM(CASE WHEN l.sql_at IS NOT NULL THEN 1 ELSE 0 END) AS n, COUNT(*) AS d
FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id
WHERE l.mql_at >= :start AND l.mql_at < :end {filters}
{group}"""

LEAD_TO_CUSTOMER = """
SELECT {keys} SUM(CASE WHEN o.is_won = TRUE THEN 1 ELSE 0 END) AS n, COUNT(*) AS d
FROM leads l
LEFT JOIN accounts a ON a.account_id = l.account_id
LEFT JOIN opportunities o ON o.opportunity_id = l.converted_opportunity_id
WHERE l.created_at >= :start AND l.created_at < :end {filters}
{group}"""

HANDOFF_SLA = """
SELECT {keys}
       SUM(CASE WHEN l.first_follow_up_at IS NOT NULL
                 AND l.first_follow_up_at <= l.mql_at + INTERVAL '24 hours'
                THEN 1 ELSE 0 END) AS n,
       COUNT(*) AS d
FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id
WHERE l.mql_at >= :start AND l.mql_at < :end {filters}
{group}"""

DUPLICATES = """
SELECT SUM(CASE WHEN d.n > 1 THEN 1 ELSE 0 END) AS n, COUNT(*) AS d
FROM contacts c
LEFT JOIN (SELECT lower(email) AS e, COUNT(*) AS n
           FROM contacts WHERE email IS NOT NULL GROUP BY lower(email)) d
  ON d.e = lower(c.email)"""

COMPLETENESS = """
SELECT SUM(CASE WHEN o.amount IS NOT NULL AND o.close_date IS NOT NULL
                 AND o.owner_id IS NOT NULL AND o.stage IS NOT NULL
                 AND o.segment IS NOT NULL THEN 1 ELSE 0 END) AS n,
       COUNT(*) AS d
FROM opportunities o"""

# ---- deals won, quota attainment, billing and data health: written from the meanings ----
# A snapshot ("MRR at the end of the period") is taken when the period ends or, if that is
# later, at the moment of asking (`now`); "at the start" means running at the end of the day
# before the period's first day.

OWNED_OPPORTUNITY_DIMS = {**OPPORTUNITY_DIMS, "owner": "u.name"}
OWNED_QUOTA_DIMS = {**QUOTA_DIMS, "owner": "u.name"}
ACCOUNT_DIMS = {"segment": "a.segment", "region": "a.region"}
SOURCE_SYSTEM_DIMS = {"source_system": "f.source_system"}
SYNC_DIMS = {"source_system": "r.source_system", "target_system": "r.target_system"}
MA_DIMS = {"source": "c.source"}

DEALS_WON = """
SELECT {keys} COUNT(*) AS v
FROM opportunities o LEFT JOIN users u ON u.user_id = o.owner_id
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

OWNED_BOOKINGS = """
SELECT {keys} SUM(o.amount) AS v
FROM opportunities o LEFT JOIN users u ON u.user_id = o.owner_id
WHERE o.is_won = TRUE AND o.close_date >= :start AND o.close_date < :end {filters}
{group}"""

# :end is the last day of the snapshot: a line runs that day if it started by then and ends
# (its end_date is the first day it no longer runs) after it.
MRR_ON_DAY = """
SELECT {keys} SUM(s.mrr) AS v
FROM subscriptions s LEFT JOIN accounts a ON a.account_id = s.account_id
WHERE s.start_date <= :end AND (s.end_date IS NULL OR s.end_date > :end) {filters}
{group}"""

# Per account, MRR running at the end of the day before :start and on the day :end.
RETENTION = """
SELECT {keys} SUM(c.start_mrr) AS start_mrr, SUM(c.end_mrr) AS end_mrr,
       SUM(CASE WHEN c.end_mrr < c.start_mrr THEN c.end_mrr ELSE c.start_mrr END) AS kept,
       SUM(CASE WHEN c.end_mrr = 0 THEN 1 ELSE 0 END) AS lost, COUNT(*) AS customers
FROM (SELECT s.account_id,
             SUM(CASE WHEN s.start_date < :start
                       AND (s.end_date IS NULL OR s.end_date >= :start)
                      THEN s.mrr ELSE 0 END) AS start_mrr,
             SUM(CASE WHEN s.start_date <= :end AND (s.end_date IS NULL OR s.end_date > :end)
                      THEN s.mrr ELSE 0 END) AS end_mrr
      FROM subscriptions s GROUP BY s.account_id) c
LEFT JOIN accounts a ON a.account_id = c.account_id
WHERE c.start_mrr > 0 {filters}
{group}"""

# :end is the instant measured at.
FRESHNESS = """
SELECT {keys} MAX(f.hours) AS v
FROM (SELECT r.source_system,
             (EXTRACT(EPOCH FROM CAST(:end AS TIMESTAMP)) - EXTRACT(EPOCH FROM MAX(r.finished_at)))
                 / 3600.0 AS hours
      FROM sync_runs r
      WHERE r.target_system = 'data_warehouse' AND r.status = 'success'
        AND r.finished_at <= :end
      GROUP BY r.source_system) f
WHERE 1 = 1 {filters}
{group}"""

SYNC_ERRORS = """
SELECT {keys} SUM(r.records_failed) AS n, SUM(r.records_sent) AS d
FROM sync_runs r
WHERE r.started_at >= :start AND r.started_at < :end {filters}
{group}"""

MATCHED = """
SELECT {keys} COUNT(m.ma_contact_id) AS n, COUNT(*) AS d
FROM ma_contacts c
LEFT JOIN (SELECT DISTINCT i.ma_contact_id
           FROM identity_map i JOIN contacts k ON k.contact_id = i.crm_contact_id
           WHERE i.status = 'confirmed') m ON m.ma_contact_id = c.ma_contact_id
WHERE c.created_at >= :start AND c.created_at < :end {filters}
{group}"""

# The stage guide: nothing may follow Closed Won; after Closed Lost only an open stage, entered
# within 90 days (a reopening).
STAGE_RULES = """
SELECT {keys} SUM(CASE WHEN b.opportunity_id IS NULL THEN 1 ELSE 0 END) AS n, COUNT(*) AS d
FROM opportunities o
LEFT JOIN (SELECT DISTINCT h.opportunity_id
           FROM (SELECT opportunity_id, stage, entered_at,
                        LAG(stage) OVER (PARTITION BY opportunity_id ORDER BY stage_order)
                            AS before_stage,
                        LAG(entered_at) OVER (PARTITION BY opportunity_id ORDER BY stage_order)
                            AS before_at
                 FROM opportunity_stage_history) h
           WHERE h.before_stage = 'Closed Won'
              OR (h.before_stage = 'Closed Lost'
                  AND (h.stage IN ('Closed Won', 'Closed Lost')
                       OR h.entered_at > h.before_at + INTERVAL '90 days'))) b
  ON b.opportunity_id = o.opportunity_id
WHERE 1 = 1 {filters}
{group}"""

NEW_METRIC_DIMS = {
    "deals_won": OWNED_OPPORTUNITY_DIMS, "quota_attainment": OWNED_QUOTA_DIMS,
    **dict.fromkeys(["mrr", "arr", "net_revenue_retention", "gross_revenue_retention",
                     "churn_rate"], ACCOUNT_DIMS),
    "freshness": SOURCE_SYSTEM_DIMS, "sync_error_rate": SYNC_DIMS, "match_rate": MA_DIMS,
    "stage_consistency_rate": OPPORTUNITY_DIMS,
}


def _snapshot(end: dt.date, now: dt.datetime | None) -> tuple[dt.date, dt.datetime]:
    """The last day a period's end snapshot covers, and the instant it is taken at."""
    period_end = dt.datetime(end.year, end.month, end.day)
    at = period_end if now is None or now >= period_end else now
    midnight = dt.datetime(at.year, at.month, at.day)
    last_day = at.date() - dt.timedelta(days=1) if at == midnight else at.date()
    return last_day, at


def _new_metric(q: _Query, metric: str, start: dt.date, end: dt.date,
                now: dt.datetime | None) -> Values:
    last_day, at = _snapshot(end, now)
    snapshot = metric in ("mrr", "arr", "net_revenue_retention", "gross_revenue_retention",
                          "churn_rate", "freshness")
    if snapshot and last_day < start:  # the period has not started: there is no snapshot yet
        return {}
    if metric == "deals_won":
        return q.one(DEALS_WON, OWNED_OPPORTUNITY_DIMS, start, end)
    if metric == "quota_attainment":
        quota = (q.one(QUOTA, OWNED_QUOTA_DIMS, start, end) if q.by or q.where
                 else q.one(QUOTA_ALL, NO_DIMS, start, end))
        return _combine([q.one(OWNED_BOOKINGS, OWNED_OPPORTUNITY_DIMS, start, end), quota], _div)
    if metric in ("mrr", "arr"):
        months = 12 if metric == "arr" else 1
        return {k: None if v is None else v * months
                for k, v in q.one(MRR_ON_DAY, ACCOUNT_DIMS, start, last_day).items()}
    if metric in ("net_revenue_retention", "gross_revenue_retention", "churn_rate"):
        rows = q.rows(RETENTION, ACCOUNT_DIMS, start, last_day)
        pick = {"net_revenue_retention": lambda r: _div(r[1], r[0]),
                "gross_revenue_retention": lambda r: _div(r[2], r[0]),
                "churn_rate": lambda r: _div(r[3], r[4])}[metric]
        return {k: pick(r) for k, r in rows.items()}
    if metric == "freshness":
        return q.one(FRESHNESS, SOURCE_SYSTEM_DIMS, start, at)
    if metric == "sync_error_rate":
        return q.ratio(SYNC_ERRORS, SYNC_DIMS, start, end)
    if metric == "match_rate":
        return q.ratio(MATCHED, MA_DIMS, start, end)
    if metric == "stage_consistency_rate":
        return q.ratio(STAGE_RULES, OPPORTUNITY_DIMS, start, end)
    raise ValueError(f"no reference for metric {metric!r}")


# Which dimensions each metric may be broken down or filtered by.
ALLOWED_DIMS = {
    **dict.fromkeys(
        ["bookings", "win_rate", "average_deal_size", "sales_cycle_length", "open_pipeline",
         "marketing_originated_revenue", "marketing_influenced_revenue", "revenue_growth_rate",
         "pipeline_velocity", "clv"], OPPORTUNITY_DIMS),
    **dict.fromkeys(
        ["mql_count", "sql_count", "mql_to_sql_conversion_rate",
         "lead_to_customer_conversion_rate", "lead_handoff_sla_attainment"], LEAD_DIMS),
    "pipeline_coverage": QUOTA_DIMS,
    **dict.fromkeys(["cac", "ltv_cac_ratio", "duplicate_rate", "opportunity_completeness"],
                    NO_DIMS),
    **NEW_METRIC_DIMS,
}
REFERENCE_METRICS = sorted(ALLOWED_DIMS)

Key = object
Values = dict[Key, float | None]


class _Query:
    """One hand-written query run for a period, breakdown and filters on one connection."""

    def __init__(self, conn: Connection, by: tuple[str, ...], where: dict[str, str]) -> None:
        self.conn, self.by, self.where = conn, by, where

    def rows(self, template: str, dims: dict[str, str], start: dt.date, end: dt.date,
             ) -> dict[tuple, tuple]:
        """{group tuple: measure values}; the group is () without a breakdown."""
        keys = "".join(f"{dims[d]} AS k{i}, " for i, d in enumerate(self.by))
        group = f"GROUP BY {', '.join(dims[d] for d in self.by)}" if self.by else ""
        # A filter is one value or several (any of them: IN).
        where = {d: (v,) if isinstance(v, str) else tuple(v) for d, v in self.where.items()}
        filters = "".join(
            f" AND {dims[d]} IN ({', '.join(f':w{i}_{j}' for j in range(len(vs)))})"
            for i, (d, vs) in enumerate(where.items()))
        params: dict[str, object] = {"start": start, "end": end}
        params.update({f"w{i}_{j}": v for i, vs in enumerate(where.values())
                       for j, v in enumerate(vs)})
        statement = template.format(keys=keys, filters=filters, group=group)
        used = {k: v for k, v in params.items() if f":{k}" in statement}
        out = {}
        for row in self.conn.execute(text(statement), used):
            n = len(self.by)
            out[tuple(row[:n])] = tuple(_num(v) for v in row[n:])
        return out

    def one(self, template: str, dims: dict[str, str], start: dt.date, end: dt.date) -> Values:
        """The first measure of each group."""
        return {k: v[0] for k, v in self.rows(template, dims, start, end).items()}

    def ratio(self, template: str, dims: dict[str, str], start: dt.date, end: dt.date,
              ) -> Values:
        """First measure / second measure of each group."""
        return {k: _div(n, d) for k, (n, d) in self.rows(template, dims, start, end).items()}


def _num(value: object) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | int | float) else value


def _div(n: float | None, d: float | None) -> float | None:
    if n is None or d is None or d == 0:
        return None
    return n / d


def _combine(inputs: Sequence[Values], fn, counts: Sequence[int] = ()) -> Values:
    """Apply `fn` group by group over every group of every input; a missing input gives None,
    except for the inputs listed in `counts`, which count rows: none of them is 0."""
    keys = list(dict.fromkeys(k for values in inputs for k in values))
    out = {}
    for key in keys:
        args = [values.get(key, 0 if i in counts else None) for i, values in enumerate(inputs)]
        out[key] = None if any(a is None for a in args) else fn(*args)
    return out


def _shift(day: dt.date, days: int) -> dt.date:
    return day - dt.timedelta(days=days)


def _compute(q: _Query, metric: str, start: dt.date, end: dt.date,
             previous_start: dt.date | None = None) -> Values:
    simple = {
        "bookings": (BOOKINGS, OPPORTUNITY_DIMS),
        "marketing_originated_revenue": (MARKETING_ORIGINATED, OPPORTUNITY_DIMS),
        "marketing_influenced_revenue": (MARKETING_INFLUENCED, OPPORTUNITY_DIMS),
        "average_deal_size": (AVERAGE_DEAL_SIZE, OPPORTUNITY_DIMS),
        "sales_cycle_length": (SALES_CYCLE_LENGTH, OPPORTUNITY_DIMS),
        "open_pipeline": (OPEN_PIPELINE, OPPORTUNITY_DIMS),
        "mql_count": (MQL_COUNT, LEAD_DIMS),
        "sql_count": (SQL_COUNT, LEAD_DIMS),
    }
    ratios = {
        "win_rate": (WIN_RATE, OPPORTUNITY_DIMS),
        "mql_to_sql_conversion_rate": (MQL_TO_SQL, LEAD_DIMS),
        "lead_to_customer_conversion_rate": (LEAD_TO_CUSTOMER, LEAD_DIMS),
        "lead_handoff_sla_attainment": (HANDOFF_SLA, LEAD_DIMS),
        "duplicate_rate": (DUPLICATES, NO_DIMS),
        "opportunity_completeness": (COMPLETENESS, NO_DIMS),
    }
    if metric in simple:
        return q.one(*simple[metric], start, end)
    if metric in ratios:
        return q.ratio(*ratios[metric], start, end)
    return _derived(q, metric, start, end, previous_start)


def _derived(q: _Query, metric: str, start: dt.date, end: dt.date,
             previous_start: dt.date | None = None) -> Values:
    if metric == "pipeline_coverage":
        quota = (q.one(QUOTA, QUOTA_DIMS, start, end) if q.by or q.where
                 else q.one(QUOTA_ALL, NO_DIMS, start, end))
        pipeline = q.one(OPEN_PIPELINE, OPPORTUNITY_DIMS, start, end)
        return _combine([pipeline, quota], _div)
    if metric == "revenue_growth_rate":
        previous = previous_start or _shift(start, (end - start).days)
        now = q.one(BOOKINGS, OPPORTUNITY_DIMS, start, end)
        before = q.one(BOOKINGS, OPPORTUNITY_DIMS, previous, start)
        return _combine([now, before], lambda a, b: None if b == 0 else a / b - 1)
    if metric == "pipeline_velocity":
        trail = _shift(start, TRAILING_DAYS)
        inputs = [q.one(OPEN_COUNT, OPPORTUNITY_DIMS, start, end),
                  q.ratio(WIN_RATE, OPPORTUNITY_DIMS, trail, start),
                  q.one(AVERAGE_DEAL_SIZE, OPPORTUNITY_DIMS, trail, start),
                  q.one(SALES_CYCLE_LENGTH, OPPORTUNITY_DIMS, trail, start)]
        return _combine(inputs, lambda n, w, a, c: None if c == 0 else n * w * a / c, counts=[0])
    if metric == "clv":
        return {k: None if v is None else v * GROSS_MARGIN / ANNUAL_CHURN
                for k, v in q.one(NEW_BUSINESS_AVERAGE, OPPORTUNITY_DIMS, start, end).items()}
    if metric == "cac":
        return {(): _cac(q, start, end)}
    if metric == "ltv_cac_ratio":
        clv = _derived(q, "clv", start, end)[()]
        return {(): _div(clv, _cac(q, start, end))}
    raise ValueError(f"no reference for metric {metric!r}")


def _cac(q: _Query, start: dt.date, end: dt.date) -> float | None:
    spend = q.one(SPEND, NO_DIMS, start, end)[()]
    customers = q.one(NEW_CUSTOMERS, NO_DIMS, start, end)[()]
    return _div(spend, customers)


def reference_value(
    conn: Connection,
    metric_id: str,
    start: dt.date,
    end: dt.date,
    by: str | Sequence[str] | None = None,
    where: dict[str, str | Sequence[str]] | None = None,
    previous_start: dt.date | None = None,
    now: dt.datetime | None = None,
) -> float | Values | None:
    """The metric over [start, end): a float/None, or {group: value} when `by` is given.

    `previous_start`: where the period before this one starts, for growth (default: the same
    number of days before `start`). `now`: the moment of asking; snapshots (MRR, retention,
    freshness) are taken at the end of the period or now, whichever comes first (default: at
    the end of the period).
    """
    if metric_id not in ALLOWED_DIMS:
        raise ValueError(f"no reference for metric {metric_id!r}")
    dims = (by,) if isinstance(by, str) else tuple(by or ())
    where = dict(where or {})
    unknown = [d for d in (*dims, *where) if d not in ALLOWED_DIMS[metric_id]]
    if unknown:
        raise ValueError(f"{metric_id} has no dimension {unknown[0]!r}")
    query = _Query(conn, dims, where)
    values = (_new_metric(query, metric_id, start, end, now) if metric_id in NEW_METRIC_DIMS
              else _compute(query, metric_id, start, end, previous_start))
    if not dims:
        return values.get((), None)
    if isinstance(by, str):
        return {k[0]: v for k, v in values.items()}
    return values
