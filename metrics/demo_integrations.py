"""The demo warehouse's integrations: marketing automation's contacts, the identity map that
links them to CRM contacts, the source systems loading the warehouse, and every sync run.

Marketing automation holds about a third of the CRM's people, some with a differently cased
e-mail, plus people the CRM has never seen (free-mail sign-ups). Identity resolution confirms
most links within two days; list imports match worst, and some links wait in the review queue.
The sync log keeps 400 days of runs of five integrations on the cadences of the authoritative
systems guide. Runs fail now and then, integrations have bad days (an outage of a few hours, a
day of rejected records), and at the end of the history the billing load has been failing for
the last hours, so billing data is stale "now".
"""

from __future__ import annotations

import datetime as dt

from metrics import demo_names as names
from metrics.demo_plan import Plan, choose

MA_SHARE = 0.30  # CRM contacts marketing automation also holds
MA_ONLY_PER_OPPORTUNITY = 0.03  # people only marketing automation knows
# source: (weight, confirmed share, confirmed or in review share)
MA_SOURCES = {"form": (0.40, 0.93, 0.96), "webinar": (0.20, 0.91, 0.95),
              "event": (0.15, 0.86, 0.91), "chat": (0.10, 0.88, 0.92),
              "list_import": (0.15, 0.72, 0.80)}
SOURCE_SYSTEMS = (("crm", "CRM", 15), ("marketing_automation", "Marketing automation", 60),
                  ("billing", "Billing", 60))
# source, target, every (minutes), records a day per 1,000 opportunities of scale, share of
# records still failing after the retries, typical run length (seconds)
INTEGRATIONS = (
    ("crm", "data_warehouse", 15, 40.0, 0.0005, 40),
    ("marketing_automation", "data_warehouse", 60, 60.0, 0.001, 120),
    ("billing", "data_warehouse", 60, 8.0, 0.0002, 90),
    ("marketing_automation", "crm", 5, 30.0, 0.004, 20),
    ("crm", "marketing_automation", 5, 20.0, 0.001, 20),
)
SYNC_LOG_DAYS = 400
RUN_FAILURE = 0.003  # a single run failing on its own
OUTAGE_DAYS = 0.02  # days with a few hours of failed runs, per integration
BAD_DAYS = 0.03  # days on which one integration has records rejected 8 times as often
BILLING_OUTAGE_HOURS = 5  # billing loads failing at the end of the history


def ma_contacts(plan: Plan) -> str:
    """Mirrors of a share of CRM contacts (ids 3n), then marketing-only people (ids 3n + 1)."""
    p = plan
    sources = [(name, weight) for name, (weight, _, _) in MA_SOURCES.items()]
    first = names.sql_pick(names.FIRST_NAMES, p.pick("i", 146, len(names.FIRST_NAMES)))
    last = names.sql_pick(names.LAST_NAMES, p.pick("i", 147, len(names.LAST_NAMES)))
    only = max(10, round(plan.scale * MA_ONLY_PER_OPPORTUNITY))
    return f"""
    INSERT INTO ma_contacts BY NAME
    SELECT contact_id * 3 AS ma_contact_id,
           CASE WHEN email IS NULL
                THEN lower(first_name || '.' || last_name) || contact_id || '@gmail.com'
                WHEN {p.rand("contact_id", 143)} < 0.3 THEN upper(email[1]) || email[2:]
                ELSE email END AS email,
           {choose(p.rand("contact_id", 144), sources)} AS source,
           {p.timestamp(p.moment("contact_id", 145))} AS created_at
    FROM contacts
    WHERE {p.rand("contact_id", 140)} < {MA_SHARE!r}
    UNION ALL
    SELECT i * 3 + 1, lower({first} || '.' || {last}) || i || '@gmail.com',
           {choose(p.rand("i", 149), sources)}, {p.timestamp(p.moment("i", 148))}
    FROM range({only}) r(i)
    """


def identity_map(plan: Plan) -> str:
    """Links from mirrored marketing contacts to their CRM contact: confirmed or in review."""
    p = plan
    confirmed = " ".join(f"WHEN '{s}' THEN {c!r}" for s, (_, c, _) in MA_SOURCES.items())
    linked = " ".join(f"WHEN '{s}' THEN {r!r}" for s, (_, _, r) in MA_SOURCES.items())
    matched = (f"created_at + to_microseconds(CAST({p.rand('ma_contact_id', 151)} * 2 * "
               f"86400000000 AS BIGINT))")
    return f"""
    INSERT INTO identity_map BY NAME
    SELECT ma_contact_id, ma_contact_id // 3 AS crm_contact_id,
           CASE WHEN confirmed THEN 'confirmed' ELSE 'pending_review' END AS status,
           CASE WHEN confirmed THEN matched END AS matched_at
    FROM (
        SELECT *, u < (CASE source {confirmed} END)
                  AND matched < TIMESTAMP '{plan.data_end}' AS confirmed
        FROM (SELECT ma_contact_id, source, {p.rand("ma_contact_id", 150)} AS u,
                     {matched} AS matched
              FROM ma_contacts WHERE ma_contact_id % 3 = 0)
        WHERE u < (CASE source {linked} END)
    )
    """


def source_systems(plan: Plan) -> str:
    """The systems loading the warehouse and how often they are scheduled to."""
    rows = ", ".join(f"('{key}', '{name}', {every})" for key, name, every in SOURCE_SYSTEMS)
    return f"INSERT INTO source_systems BY NAME SELECT * FROM (VALUES {rows}) " \
           "s(source_system, name, load_every_minutes)"


def sync_runs(plan: Plan) -> str:
    """Every scheduled run of every integration over the last SYNC_LOG_DAYS days."""
    p = plan
    log_start = dt.datetime.combine(plan.data_end, dt.time()) - dt.timedelta(days=SYNC_LOG_DAYS)
    minutes = SYNC_LOG_DAYS * 1440
    integrations = ", ".join(
        f"({k}, '{src}', '{dst}', {every}, "
        f"{per_day * plan.scale / 1000 * every / 1440!r}, {errors!r}, {seconds})"
        for k, (src, dst, every, per_day, errors, seconds) in enumerate(INTEGRATIONS))
    run, day = "k * 1000000 + i", "k * 100000 + day"
    billing_down = (f"(source_system = 'billing' AND started_at >= TIMESTAMP '{plan.data_end}'"
                    f" - INTERVAL {BILLING_OUTAGE_HOURS} HOUR)")
    return f"""
    INSERT INTO sync_runs BY NAME
    WITH slots AS (
        SELECT k, source_system, target_system, per_run, errors, seconds, i,
               (i * every) // 1440 AS day, (i * every) % 1440 AS minute,
               TIMESTAMP '{log_start}' + to_minutes(CAST(i * every AS BIGINT))
                   + to_microseconds(CAST({p.rand(run, 160)} * 60000000 AS BIGINT)) AS started_at
        FROM (VALUES {integrations})
                 g(k, source_system, target_system, every, per_run, errors, seconds),
             range({minutes // 5}) r(i)
        WHERE i < {minutes} // every
    ), judged AS (
        SELECT *,
               {p.rand(run, 161)} < {RUN_FAILURE!r}
               OR ({p.rand(day, 162)} < {OUTAGE_DAYS!r}
                   AND minute BETWEEN {p.rand(day, 163)} * 1440
                                  AND {p.rand(day, 163)} * 1440 + 60 + {p.rand(day, 164)} * 300)
               OR {billing_down} AS failed,
               errors * CASE WHEN {p.rand(day, 165)} < {BAD_DAYS!r} THEN 8 ELSE 1 END AS rate,
               floor(per_run * (0.5 + {p.rand(run, 166)}) + {p.rand(run, 167)}) AS volume
        FROM slots
        WHERE started_at < TIMESTAMP '{plan.data_end}'
    )
    SELECT {run} + 1 AS sync_run_id, source_system, target_system, started_at,
           started_at + to_microseconds(CAST(seconds * CASE WHEN failed THEN 0.1
               ELSE 0.5 + {p.rand(run, 168)} END * 1000000 AS BIGINT)) AS finished_at,
           CASE WHEN failed THEN 'failed' ELSE 'success' END AS status,
           CASE WHEN failed THEN 0 ELSE volume END AS records_sent,
           CASE WHEN failed THEN 0
                ELSE least(volume, floor(volume * rate + {p.rand(run, 169)})) END
               AS records_failed
    FROM judged
    """


STEPS = (
    ("ma_contacts", ma_contacts),
    ("identity_map", identity_map),
    ("source_systems", source_systems),
    ("sync_runs", sync_runs),
)
