"""Set-based DuckDB SQL that fills each warehouse table from `range()` and hashed row numbers.

Every statement is built from the `Plan` and our own word lists only, never from user input.
Salts are unique per random quantity so no two columns share a random stream.
"""

from __future__ import annotations

import datetime as dt

from metrics import demo_names as names
from metrics.demo_plan import (
    AMOUNT_SIGMA,
    CLOSE_LAG_DAYS,
    CYCLE_SIGMA,
    NEW_BUSINESS_SHARE,
    QUOTA_PLAN_FACTOR,
    REGIONS,
    SEGMENTS,
    SPEND_PER_CUSTOMER,
    Plan,
    add_months,
    by_segment,
    choose,
    expected_customers_per_opportunity,
    expected_won_amount_per_opportunity,
)

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


CONTACT_STRIDE = 100  # account a's contacts are a*100 .. a*100 + n - 1: no lookup needed
MAX_CONTACTS = CONTACT_STRIDE - 1


def _cells(plan: Plan, alias: str = "cells") -> str:
    """VALUES of (segment, region, first seller id, sellers) for the seller cells."""
    rows = [f"('{segment}', '{region}', {first}, {count})"
            for segment, region, first, count in _cell_rows(plan)]
    return f"(VALUES {', '.join(rows)}) {alias}(segment, region, first_id, n)"


def _cell_rows(plan: Plan) -> list[tuple[str, str, int, int]]:
    """Sellers are numbered cell by cell: segment-major, region-minor."""
    rows, first = [], 1
    for segment, region, count in plan.sellers():
        rows.append((segment, region, first, count))
        first += count
    return rows


def _seller_count(plan: Plan) -> int:
    return sum(count for _, _, count in plan.sellers())


def _index(u_sql: str, weights: list[float]) -> str:
    """SQL CASE giving the 0-based index of the weighted option a uniform number falls in."""
    total, cumulative, parts = sum(weights), 0.0, []
    for k, weight in enumerate(weights[:-1]):
        cumulative += weight / total
        parts.append(f"WHEN {u_sql} < {cumulative!r} THEN {k}")
    return f"(CASE {' '.join(parts)} ELSE {len(weights) - 1} END)"


# An account's segment, region and contact count are pure functions of its id, so the big
# tables derive them inline instead of joining back to `accounts` (a join per 10M rows costs
# more than the whole expression).
def segment_index(plan: Plan, account: str) -> str:
    """SQL: 0 SMB, 1 Mid-Market, 2 Enterprise for the account id `account`."""
    return _index(plan.rand(account, 10), [s.share for s in SEGMENTS])


def region_index(plan: Plan, account: str) -> str:
    """SQL: index into REGIONS for the account id `account`."""
    return _index(plan.rand(account, 15), [w for _, w in REGIONS])


def contact_count(plan: Plan, account: str) -> str:
    """SQL: how many contacts the account `account` has (geometric-like, by segment)."""
    extra = [float(s.contacts - 1) for s in SEGMENTS]
    return (f"(1 + least({MAX_CONTACTS - 1}, floor(-ln(1 - {plan.rand(account, 14)})"
            f" * {extra}[1 + {segment_index(plan, account)}])))::BIGINT")


def contact_of(plan: Plan, account: str, key: str, salt: int) -> str:
    """SQL: one of the contacts of account `account`, chosen by (`key`, salt)."""
    return (f"({account}) * {CONTACT_STRIDE} + "
            f"{plan.pick(key, salt, contact_count(plan, account))}")


def _segment_names() -> str:
    return names.sql_list(tuple(s.name for s in SEGMENTS))


def _region_names() -> str:
    return names.sql_list(tuple(r for r, _ in REGIONS))


def _person(plan: Plan, key: str, salt: int) -> tuple[str, str]:
    first = names.sql_pick(names.FIRST_NAMES, plan.pick(key, salt, len(names.FIRST_NAMES)))
    last = names.sql_pick(names.LAST_NAMES, plan.pick(key, salt + 1, len(names.LAST_NAMES)))
    return first, last


def _unique_person(plan: Plan, user_id: str) -> tuple[str, str]:
    """A first and last name no other user has: the seed shuffles every pair of names, and a
    number is added only past the 25,200 pairs (a seller is looked up by name)."""
    n_first, n_last = len(names.FIRST_NAMES), len(names.LAST_NAMES)
    pairs = n_first * n_last
    index = f"((({user_id}) - 1 + {plan.seed * 7_919}) * 7_919 % {pairs})"
    suffix = f"CASE WHEN {user_id} > {pairs} THEN ' ' || (({user_id} - 1) // {pairs} + 1) END"
    first = names.sql_pick(names.FIRST_NAMES, f"{index} % {n_first}")
    last = names.sql_pick(names.LAST_NAMES, f"{index} // {n_first}")
    return first, f"({last} || coalesce({suffix}, ''))"


def users(plan: Plan) -> str:
    """Sellers per (segment, region) cell, then marketing and customer success staff."""
    first, last = _unique_person(plan, "user_id")
    others = max(2, round(plan.scale / 40_000))
    return f"""
    INSERT INTO users BY NAME
    SELECT user_id, {first} || ' ' || {last} AS name, team, region, segment,
           lower({first} || '.' || {last}) || user_id || '@ourcompany.com' AS email
    FROM (
        SELECT first_id + j AS user_id, 'sales' AS team, region, segment
        FROM (SELECT *, unnest(range(n)) AS j FROM {_cells(plan)})
        UNION ALL
        SELECT {_seller_count(plan)} + 1 + i, CASE WHEN i % 2 = 0 THEN 'marketing'
               ELSE 'customer_success' END, {choose(plan.rand("i", 3), list(REGIONS))}, NULL
        FROM range({2 * others}) r(i)
    )
    """


def accounts(plan: Plan) -> str:
    """Accounts: segment and region drive every downstream distribution."""
    p = plan
    word_a = names.sql_pick(names.COMPANY_WORDS, p.pick("account_id", 11, len(names.COMPANY_WORDS)))
    word_b = names.sql_pick(names.COMPANY_WORDS, p.pick("account_id", 12, len(names.COMPANY_WORDS)))
    suffix = names.sql_pick(names.COMPANY_SUFFIXES,
                            p.pick("account_id", 13, len(names.COMPANY_SUFFIXES)))
    industry = names.sql_pick(names.INDUSTRIES, p.pick("account_id", 18, len(names.INDUSTRIES)))
    low = "[10, 200, 2000][1 + seg]"
    span = "[190, 1800, 48000][1 + seg]"
    return f"""
    INSERT INTO accounts BY NAME
    SELECT account_id, {word_a} || ' ' || {word_b} || ' ' || {suffix} AS name,
           lower({word_a} || {word_b}) || account_id || '.com' AS domain,
           {_segment_names()}[1 + seg] AS segment,
           {_region_names()}[1 + {region_index(p, "account_id")}] AS region,
           {industry} AS industry,
           {p.timestamp(f"-30 - {p.rand('account_id', 16)} * 1800")} AS created_at,
           ({low} + floor({p.rand("account_id", 17)} ** 2 * {span}))::INTEGER AS employees
    FROM (SELECT i + 1 AS account_id, {segment_index(p, "i + 1")} AS seg
          FROM range({plan.accounts}) r(i))
    """


def contacts(plan: Plan) -> str:
    """Contacts per account; about 2% are the same person re-entered with a differently cased
    e-mail by another system, and about 1% have no e-mail at all."""
    p = plan
    first, last = _person(p, "person", 20)
    title = names.sql_pick(names.TITLES, p.pick("contact_id", 22, len(names.TITLES)))
    system = choose(p.rand("contact_id", 23),
                    [("crm", 0.7), ("marketing_automation", 0.25), ("import", 0.05)])
    return f"""
    INSERT INTO contacts BY NAME
    SELECT contact_id, account_id,
           CASE WHEN {p.rand("contact_id", 24)} < 0.01 THEN NULL
                WHEN is_copy THEN {first} || '.' || {last} || '@' || domain
                ELSE lower({first} || '.' || {last}) || '@' || domain END AS email,
           {first} AS first_name, {last} AS last_name, {title} AS title,
           created_at + to_microseconds(CAST({p.rand("contact_id", 25)} * 700 * {DAY_US}
                                             AS BIGINT)) AS created_at,
           CASE WHEN is_copy THEN 'marketing_automation' ELSE {system} END AS source_system
    FROM (
        SELECT *, CASE WHEN is_copy THEN contact_id - 1 ELSE contact_id END AS person
        FROM (
            SELECT account_id * {CONTACT_STRIDE} + j AS contact_id, account_id, domain,
                   created_at, j > 0 AND {p.rand(f"account_id * {CONTACT_STRIDE} + j", 26)} < 0.02
                   AS is_copy
            FROM (SELECT account_id, domain, created_at,
                         unnest(range({contact_count(p, "account_id")})) AS j
                  FROM accounts)
        )
    )
    """


def _months(plan: Plan) -> int:
    start, end = plan.history_start, plan.as_of
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _campaign_of(plan: Plan, ts_sql: str, key: str, salt: int) -> str:
    """SQL for a campaign running in the month of `ts_sql` (NULL before the history)."""
    per = plan.campaigns_per_month
    month = f"date_diff('month', DATE '{plan.history_start}', {ts_sql})"
    return (f"CASE WHEN {month} BETWEEN 0 AND {_months(plan) - 1} THEN "
            f"{month} * {per} + {plan.pick(key, salt, per)} + 1 END")


def campaigns(plan: Plan) -> str:
    """A few campaigns per month, each running around its month."""
    per = plan.campaigns_per_month
    channel = names.sql_pick(names.CAMPAIGN_CHANNELS,
                             plan.pick("id", 30, len(names.CAMPAIGN_CHANNELS)))
    return f"""
    INSERT INTO campaigns BY NAME
    SELECT id AS campaign_id,
           replace({channel}, '_', ' ') || ' ' || strftime(month_start, '%Y-%m') || ' #' || (j + 1)
               AS name,
           {channel} AS channel,
           month_start - {plan.pick("id", 31, 15)}::INTEGER AS start_date,
           month_start + (31 + {plan.pick("id", 32, 45)})::INTEGER AS end_date,
           round(1500 * exp(0.8 * {plan.normal("id", 33)}) / 10) * 10 AS cost
    FROM (
        SELECT m * {per} + j + 1 AS id, j,
               CAST(DATE '{plan.history_start}' + to_months(CAST(m AS INTEGER)) AS DATE)
                   AS month_start
        FROM range({_months(plan)}) a(m), range({per}) b(j)
    )
    """


def opportunities(plan: Plan) -> str:
    """Opportunities: skewed sizes and cycles by segment, deals pulled to quarter ends, stale
    open deals and a few percent of missing required fields."""
    p = plan
    as_of = f"DATE '{plan.as_of}'"
    cycle = [float(s.cycle_days) for s in SEGMENTS]
    median = [float(s.median_amount) for s in SEGMENTS]
    win = [s.win_rate for s in SEGMENTS]
    cells = _cell_rows(plan)
    first_ids, counts = [c[2] for c in cells], [c[3] for c in cells]
    kind = choose(p.rand("i", 41), [("new_business", NEW_BUSINESS_SHARE), ("expansion", 0.25),
                                    ("renewal", 0.15)])
    source = choose(p.rand("i", 42), [("marketing", 0.30), ("sales", 0.50), ("partner", 0.20)])
    open_stage = names.sql_pick(names.OPEN_STAGES, "idx - 1")
    probability = f"{list(names.STAGE_PROBABILITY)}[idx]"
    return f"""
    INSERT INTO opportunities BY NAME
    WITH base AS (
        SELECT i + 1 AS opportunity_id, account_id,
               {segment_index(p, "account_id")} AS seg, {region_index(p, "account_id")} AS reg,
               {p.moment("i", 40)} AS created_day, {kind} AS type, {source} AS source,
               {p.normal("i", 43)} AS z_amount, {p.normal("i", 45)} AS z_cycle,
               {p.rand("i", 47)} AS u_season, {p.pick("i", 48, 28)} AS season_day,
               {p.rand("i", 49)} AS u_stale, {p.rand("i", 50)} AS u_win,
               {p.rand("i", 51)} AS u_owner
        FROM (SELECT i, 1 + {p.pick("i", 52, plan.accounts)} AS account_id
              FROM range({plan.scale}) r(i))
    ), timed AS (
        SELECT *, {p.timestamp("created_day")} AS created_at,
               DATE '{plan.history_start}' + CAST(floor(created_day + least(365, greatest(5,
                   {cycle}[1 + seg] * exp({CYCLE_SIGMA} * z_cycle)))) AS INTEGER)
                   AS natural_close
        FROM base
    ), seasonal AS (
        -- deals slip or are pulled in to the last month of their quarter
        SELECT *, CASE WHEN month(natural_close) % 3 <> 0 AND u_season < 0.35
                       THEN CAST(date_trunc('quarter', natural_close) + INTERVAL 3 MONTH AS DATE)
                            - 1 - season_day::INTEGER
                       ELSE natural_close END AS planned_close
        FROM timed
    ), outcome AS (
        SELECT *, planned_close <= {as_of}
                  AND NOT (u_stale < 0.02 AND planned_close > {as_of} - 365) AS closed
        FROM seasonal
    ), staged AS (
        SELECT *, closed AND u_win < {win}[1 + seg] AS won,
               CASE WHEN type = 'new_business' THEN 1 ELSE 3 END AS start_idx,
               -- a stale deal sits in whatever stage it stalled in
               CASE WHEN planned_close <= {as_of} THEN u_stale / 0.02
                    ELSE ({as_of} - CAST(created_at AS DATE))
                         / greatest(1, planned_close - CAST(created_at AS DATE)) END AS progress
        FROM outcome
    ), indexed AS (
        SELECT *, least(5, start_idx + floor(progress * (6 - start_idx))::INTEGER) AS idx
        FROM staged
    )
    SELECT opportunity_id, account_id,
           CASE WHEN {p.rand("opportunity_id", 53)} >= 0.015
                THEN {first_ids}[1 + seg * 4 + reg]
                     + floor(u_owner * {counts}[1 + seg * 4 + reg])::BIGINT END AS owner_id,
           created_at,
           CASE WHEN {p.rand("opportunity_id", 54)} >= 0.012 THEN planned_close END AS close_date,
           CASE WHEN won THEN 'Closed Won' WHEN closed THEN 'Closed Lost' ELSE {open_stage} END
               AS stage,
           CASE WHEN {p.rand("opportunity_id", 55)} >= 0.02
                THEN greatest(100, round({median}[1 + seg] * exp({AMOUNT_SIGMA} * z_amount) / 10)
                                   * 10) END AS amount,
           closed AS is_closed, won AS is_won, source, type,
           CASE WHEN {p.rand("opportunity_id", 56)} >= 0.02
                THEN {_segment_names()}[1 + seg] END AS segment,
           {_region_names()}[1 + reg] AS region,
           CASE WHEN won THEN 100 WHEN closed THEN 0 ELSE {probability} END AS probability
    FROM indexed
    """


def _follow_up(plan: Plan, key: str, salt: int) -> str:
    """SQL for the first follow-up after `mql_at`: mostly within the 24-hour SLA."""
    u = plan.rand(key, salt)
    late = plan.rand(key, salt + 1)
    return f"""CASE WHEN mql_at IS NULL THEN NULL
            WHEN {u} < 0.80 THEN mql_at + to_microseconds(CAST({late} * 23.5 * {HOUR_US}
                                                             AS BIGINT))
            WHEN {u} < 0.95 THEN mql_at + to_microseconds(CAST((1.01 + {late} * 4) * {DAY_US}
                                                                AS BIGINT))
       END"""


def _before_end(plan: Plan, column: str) -> str:
    """`column`, or NULL when it lies after the end of recorded history."""
    return f"CASE WHEN {column} < TIMESTAMP '{plan.data_end}' THEN {column} END"


def _days(days_sql: str) -> str:
    """SQL interval of a fractional number of days."""
    return f"to_microseconds(CAST(({days_sql}) * {DAY_US} AS BIGINT))"


def converted_leads(plan: Plan) -> str:
    """One lead behind every marketing-sourced opportunity, its stages timed backwards from the
    opportunity's creation."""
    p = plan
    source = choose(p.rand("lead_id", 60), [("inbound", 0.40), ("paid", 0.25), ("event", 0.20),
                                            ("partner", 0.15)])
    return f"""
    INSERT INTO leads BY NAME
    SELECT lead_id, contact_id, account_id,
           CASE WHEN {p.rand("lead_id", 61)} >= 0.04
                THEN {_campaign_of(p, "created_at", "lead_id", 62)} END AS campaign_id,
           {source} AS source, created_at, mql_at, sql_at,
           {_before_end(p, "follow_up")} AS first_follow_up_at, converted_opportunity_id
    FROM (
        SELECT *, mql_at - {_days(f"0.5 + {p.rand('lead_id', 65)} * 20")} AS created_at,
                  -- sales accepts a lead only after following it up
                  least({_follow_up(p, "lead_id", 63)}, sql_at) AS follow_up
        FROM (
            SELECT *, sql_at - {_days(f"1 + {p.rand('lead_id', 66)} * 13")} AS mql_at
            FROM (
                SELECT opportunity_id AS lead_id, opportunity_id AS converted_opportunity_id,
                       account_id, {contact_of(p, "account_id", "opportunity_id", 67)}
                           AS contact_id,
                       created_at - {_days(f"{p.rand('opportunity_id', 68)} * 1.5")} AS sql_at
                FROM opportunities
                WHERE source = 'marketing'
            )
        )
    )
    """


def other_leads(plan: Plan) -> str:
    """Leads that never became an opportunity: about a quarter reach MQL, a fifth of those SQL."""
    p = plan
    source = choose(p.rand("i", 70), [("outbound", 0.25), ("inbound", 0.30), ("paid", 0.20),
                                      ("event", 0.15), ("partner", 0.10)])
    return f"""
    INSERT INTO leads BY NAME
    WITH born AS (
        SELECT {plan.scale} + i + 1 AS lead_id, {source} AS source, account_id,
               {contact_of(p, "account_id", "i", 78)} AS contact_id,
               {p.timestamp(p.moment("i", 79))} AS created_at
        FROM (SELECT i, 1 + {p.pick("i", 80, plan.accounts)} AS account_id
              FROM range({plan.other_leads}) r(i))
    ), qualified AS (
        SELECT *, CASE WHEN {p.rand("lead_id", 71)} < 0.25
                       THEN created_at + {_days(f"0.2 - ln(1 - {p.rand('lead_id', 72)}) * 6")}
                  END AS mql_candidate
        FROM born
    ), marketing AS (
        SELECT *, {_before_end(p, "mql_candidate")} AS mql_at FROM qualified
    ), sales AS (
        SELECT *, CASE WHEN {p.rand("lead_id", 73)} < 0.20
                       THEN mql_at + {_days(f"0.5 + {p.rand('lead_id', 74)} * 10")}
                  END AS sql_candidate
        FROM marketing
    ), followed AS (
        -- sales accepts a lead only after following it up
        SELECT *, least({_follow_up(p, "lead_id", 77)}, sql_candidate) AS follow_up FROM sales
    )
    SELECT lead_id, contact_id, account_id,
           CASE WHEN source <> 'outbound' AND {p.rand("lead_id", 75)} >= 0.04
                THEN {_campaign_of(p, "created_at", "lead_id", 76)} END AS campaign_id,
           source, created_at, mql_at, {_before_end(p, "sql_candidate")} AS sql_at,
           {_before_end(p, "follow_up")} AS first_follow_up_at,
           NULL AS converted_opportunity_id
    FROM followed
    """


def touches(plan: Plan) -> str:
    """Marketing and sales touches on accounts' contacts over the whole history."""
    p = plan
    mkt = names.sql_pick(names.MARKETING_TOUCH_CHANNELS,
                         p.pick("i", 91, len(names.MARKETING_TOUCH_CHANNELS)))
    sales = names.sql_pick(names.SALES_TOUCH_CHANNELS,
                           p.pick("i", 92, len(names.SALES_TOUCH_CHANNELS)))
    return f"""
    INSERT INTO touches BY NAME
    SELECT touch_id, contact_id, account_id,
           CASE WHEN kind = 'marketing' AND {p.rand("touch_id", 93)} >= 0.1
                THEN {_campaign_of(p, "touched_at", "touch_id", 94)} END AS campaign_id,
           touched_at, channel, kind
    FROM (
        SELECT i + 1 AS touch_id, account_id,
               {contact_of(p, "account_id", "i", 95)} AS contact_id,
               {p.timestamp(p.moment("i", 96))} AS touched_at,
               CASE WHEN {p.rand("i", 90)} < 0.55 THEN 'marketing' ELSE 'sales' END AS kind,
               CASE WHEN {p.rand("i", 90)} < 0.55 THEN {mkt} ELSE {sales} END AS channel
        FROM (SELECT i, 1 + {p.pick("i", 97, plan.accounts)} AS account_id
              FROM range({plan.touches}) r(i))
    )
    """


REOPENED = 0.012  # closed deals reopened once before their final close
REOPENED_AFTER_WIN = 0.006  # of which, reopened after Closed Won: against the stage rules


def stage_history(plan: Plan) -> str:
    """Each opportunity's walk through the open stages to its current or closing stage.

    A few closed deals were reopened once: closed (won or lost), back to Negotiation, closed
    again. The stage guide allows that only after Closed Lost, within 90 days, so these give
    the stage consistency rate something to find. stage_order numbers entries 1, 2, 3, ...
    """
    p = plan
    lost_at = (f"CASE WHEN {p.rand('opportunity_id', 100)} < 0.40 THEN 1 "
               f"WHEN {p.rand('opportunity_id', 100)} < 0.70 THEN 2 "
               f"WHEN {p.rand('opportunity_id', 100)} < 0.85 THEN 3 "
               f"WHEN {p.rand('opportunity_id', 100)} < 0.95 THEN 4 ELSE 5 END")
    stage_idx = " ".join(f"WHEN '{s}' THEN {k}" for k, s in enumerate(names.OPEN_STAGES, 1))
    open_stage = names.sql_pick(names.OPEN_STAGES, "step - 1")
    data_end = f"TIMESTAMP '{plan.data_end}'"
    close = ("CAST(coalesce(close_date, CAST(created_at AS DATE) + 30) AS TIMESTAMP)"
             " + INTERVAL 17 HOUR")
    end = (f"CASE WHEN is_closed THEN least({data_end} - INTERVAL 1 MINUTE,"
           f" greatest(created_at, {close})) ELSE {data_end} END")
    reopen = p.rand("opportunity_id", 101)
    # Where an entry sits on the way from creation (0) to the end (open steps + 1).
    position = ("CASE WHEN step <= 5 THEN step - start_idx"
                " WHEN step = 6 AND reopened THEN last_idx - start_idx + 1.0 / 3"
                " WHEN step = 7 THEN last_idx - start_idx + 2.0 / 3"
                " ELSE last_idx - start_idx + 1 END")
    return f"""
    INSERT INTO opportunity_stage_history BY NAME
    SELECT opportunity_id,
           CASE WHEN step <= 5 THEN step - start_idx + 1
                ELSE last_idx - start_idx + step - 4 END AS stage_order,
           CASE WHEN step <= 5 THEN {open_stage}
                WHEN step = 7 THEN 'Negotiation'
                WHEN step = 6 AND reopened THEN first_close
                ELSE stage END AS stage,
           make_timestamp(epoch_us(created_at) + CAST(
               (epoch_us(end_at) - epoch_us(created_at)) * ({position})
               / (last_idx - start_idx + 1) AS BIGINT)) AS entered_at
    FROM (
        SELECT opportunity_id, stage, created_at, is_closed, start_idx, {end} AS end_at,
               CASE WHEN is_won THEN 5
                    WHEN is_closed THEN greatest(start_idx, {lost_at})
                    ELSE CASE stage {stage_idx} END END AS last_idx,
               is_closed AND {reopen} < {REOPENED!r} AS reopened,
               CASE WHEN {reopen} < {REOPENED_AFTER_WIN!r} THEN 'Closed Won'
                    ELSE 'Closed Lost' END AS first_close
        FROM (SELECT *, CASE WHEN type = 'new_business' THEN 1 ELSE 3 END AS start_idx
              FROM opportunities)
    ) o
    JOIN range(1, 9) s(step)
      ON (step BETWEEN start_idx AND last_idx)
         OR (is_closed AND (step = 6 OR (reopened AND step IN (7, 8))))
    """


def _quarters(plan: Plan) -> list[tuple[dt.date, dt.date]]:
    """[start, end) of every quarter from the history start to the one after the as-of date."""
    out, start = [], plan.history_start
    last = add_months(plan.as_of.replace(day=1), 6 - (plan.as_of.month - 1) % 3)
    while start < last:
        out.append((start, add_months(start, 3)))
        start = add_months(start, 3)
    return out


def quotas(plan: Plan) -> str:
    """One quota per seller per quarter, sized from the bookings the plan expects of the cell."""
    won = expected_won_amount_per_opportunity() * QUOTA_PLAN_FACTOR * plan.scale
    quarters = ", ".join(
        f"({k}, DATE '{a}', DATE '{b - dt.timedelta(days=1)}', "
        f"{won * plan.volume(a, b, CLOSE_LAG_DAYS)!r}::DOUBLE)"
        for k, (a, b) in enumerate(_quarters(plan)))
    mean = sum(s.share * s.win_rate * s.median_amount for s in SEGMENTS)
    seg_w = by_segment("c.segment", {s.name: s.share * s.win_rate * s.median_amount / mean
                                     for s in SEGMENTS})
    reg_w = by_segment("c.region", dict(REGIONS))
    return f"""
    INSERT INTO quotas BY NAME
    SELECT c.first_id + j AS owner_id, q.period_start, q.period_end,
           round(q.total * {seg_w} * {reg_w} / c.n
                 * (0.85 + 0.3 * {plan.rand("(c.first_id + j) * 1000 + q.k", 110)}) / 1000)
               * 1000 AS amount
    FROM (SELECT *, unnest(range(n)) AS j FROM {_cells(plan)}) c,
         (VALUES {quarters}) q(k, period_start, period_end, total)
    """


def spend(plan: Plan) -> str:
    """Monthly sales and marketing spend, growing with the business; the as-of month to date."""
    per_customer = SPEND_PER_CUSTOMER * expected_customers_per_opportunity() * plan.scale
    rows, start, k = [], plan.history_start, 0
    while start <= plan.as_of:
        end = add_months(start, 1)
        elapsed = min(1.0, (plan.data_end - start).days / (end - start).days)
        total = per_customer * plan.volume(start, end, CLOSE_LAG_DAYS) * elapsed
        rows.append(f"({k}, DATE '{start}', {total!r}::DOUBLE)")
        start, k = end, k + 1
    return f"""
    INSERT INTO spend BY NAME
    SELECT month, team,
           round(total * share * (0.9 + 0.2 * {plan.rand("k * 2 + t", 120)}), 2) AS amount
    FROM (VALUES {", ".join(rows)}) m(k, month, total),
         (VALUES (0, 'sales', 0.55::DOUBLE), (1, 'marketing', 0.45::DOUBLE)) teams(t, team, share)
    """


STEPS = (
    ("users", users),
    ("accounts", accounts),
    ("contacts", contacts),
    ("campaigns", campaigns),
    ("opportunities", opportunities),
    ("leads", converted_leads),
    ("leads", other_leads),
    ("touches", touches),
    ("opportunity_stage_history", stage_history),
    ("quotas", quotas),
    ("spend", spend),
)
