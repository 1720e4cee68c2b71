"""The demo warehouse's billing: subscription lines created from won opportunities.

Billing is the system of record for revenue, and its subscriptions agree with the CRM: every
won new-business or expansion opportunity starts a line a few days after it closes, worth its
amount a year (MRR = amount / 12). A won renewal continues the lines already running and adds
none. Lines renew every year until the customer leaves (15% of lines at each anniversary); some
step down to a smaller line at an anniversary (contraction). An end or a step-down is known
once notice is given, up to 60 days ahead, so the latest lines may end after the as-of date,
and a deal won in the last days of the history may start after it.
"""

from __future__ import annotations

from metrics.demo_plan import SEGMENTS, Plan
from metrics.demo_sql import segment_index

START_LAG_DAYS = 15  # order validation and provisioning: a line starts 0-14 days after close
ANNUAL_CHURN = 0.15  # share of lines not renewed at each anniversary
DOWNGRADE_SHARE = 0.10  # lines that step down once, at one of their anniversaries
DOWNGRADE_KEEPS = (0.55, 0.90)  # the smaller line's share of the MRR, uniform in this range
NOTICE_DAYS = 60  # how far ahead an end or a step-down is known to billing


def subscriptions(plan: Plan) -> str:
    """One line per won new-business or expansion deal, split in two where it steps down."""
    p = plan
    median = [float(s.median_amount) for s in SEGMENTS]
    known_until = f"DATE '{plan.as_of}' + {NOTICE_DAYS}"
    low, high = DOWNGRADE_KEEPS
    return f"""
    INSERT INTO subscriptions BY NAME
    WITH won AS (
        SELECT opportunity_id, account_id,
               coalesce(close_date, least(CAST(created_at AS DATE) + 30, DATE '{plan.as_of}'))
                   + {p.pick("opportunity_id", 130, START_LAG_DAYS)}::INTEGER AS start_date,
               round(coalesce(amount, {median}[1 + {segment_index(p, "account_id")}]) / 12, 2)
                   AS mrr,
               -- anniversaries it renews at before it ends: geometric in the churn rate
               1 + floor(ln(1 - {p.rand("opportunity_id", 131)})
                         / ln({1 - ANNUAL_CHURN!r}))::INTEGER AS years,
               {p.rand("opportunity_id", 132)} < {DOWNGRADE_SHARE!r} AS steps_down,
               {p.rand("opportunity_id", 133)} AS u_when,
               {low!r} + {high - low!r} * {p.rand("opportunity_id", 134)} AS keeps
        FROM opportunities
        WHERE is_won AND type IN ('new_business', 'expansion')
    ), dated AS (
        SELECT *, CAST(start_date + to_months(12 * years) AS DATE) AS natural_end,
               CASE WHEN steps_down AND years > 1 THEN CAST(start_date + to_months(
                   12 * (1 + floor(u_when * (years - 1))::INTEGER)) AS DATE) END AS step_date
        FROM won
    ), known AS (
        SELECT *, CASE WHEN natural_end <= {known_until} THEN natural_end END AS end_date,
               CASE WHEN step_date <= {known_until} THEN step_date END AS step_on
        FROM dated
    )
    SELECT opportunity_id * 2 AS subscription_id, account_id, opportunity_id, start_date,
           coalesce(step_on, end_date) AS end_date, mrr
    FROM known
    UNION ALL
    SELECT opportunity_id * 2 + 1, account_id, opportunity_id, step_on, end_date,
           round(mrr * keeps, 2)
    FROM known
    WHERE step_on IS NOT NULL
    """


STEPS = (("subscriptions", subscriptions),)
