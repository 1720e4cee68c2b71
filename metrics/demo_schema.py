"""The warehouse contract: table and column names with their types in DuckDB and PostgreSQL.

The metric definitions and the query engine are written against these names; the generator
writes exactly these columns, in this order.
"""

from __future__ import annotations

ID = ("BIGINT", "BIGINT")
TEXT = ("VARCHAR", "TEXT")
TS = ("TIMESTAMP", "TIMESTAMP")
DATE = ("DATE", "DATE")
MONEY = ("DECIMAL(18,2)", "NUMERIC(18,2)")
BOOL = ("BOOLEAN", "BOOLEAN")
INT = ("INTEGER", "INTEGER")

TABLES: dict[str, tuple[tuple[str, tuple[str, str]], ...]] = {
    "users": (
        ("user_id", ID), ("name", TEXT), ("team", TEXT), ("region", TEXT), ("segment", TEXT),
        ("email", TEXT),
    ),
    "accounts": (
        ("account_id", ID), ("name", TEXT), ("domain", TEXT), ("segment", TEXT),
        ("region", TEXT), ("industry", TEXT), ("created_at", TS), ("employees", INT),
    ),
    "contacts": (
        ("contact_id", ID), ("account_id", ID), ("email", TEXT), ("first_name", TEXT),
        ("last_name", TEXT), ("title", TEXT), ("created_at", TS), ("source_system", TEXT),
    ),
    "campaigns": (
        ("campaign_id", ID), ("name", TEXT), ("channel", TEXT), ("start_date", DATE),
        ("end_date", DATE), ("cost", MONEY),
    ),
    "opportunities": (
        ("opportunity_id", ID), ("account_id", ID), ("owner_id", ID), ("created_at", TS),
        ("close_date", DATE), ("stage", TEXT), ("amount", MONEY), ("is_closed", BOOL),
        ("is_won", BOOL), ("source", TEXT), ("type", TEXT), ("segment", TEXT), ("region", TEXT),
        ("name", TEXT), ("probability", INT),
    ),
    "leads": (
        ("lead_id", ID), ("contact_id", ID), ("account_id", ID), ("campaign_id", ID),
        ("source", TEXT), ("created_at", TS), ("mql_at", TS), ("sql_at", TS),
        ("first_follow_up_at", TS), ("converted_opportunity_id", ID),
    ),
    "touches": (
        ("touch_id", ID), ("contact_id", ID), ("account_id", ID), ("campaign_id", ID),
        ("touched_at", TS), ("channel", TEXT), ("kind", TEXT),
    ),
    "opportunity_stage_history": (
        ("opportunity_id", ID), ("stage", TEXT), ("entered_at", TS), ("stage_order", INT),
    ),
    "quotas": (
        ("owner_id", ID), ("period_start", DATE), ("period_end", DATE), ("amount", MONEY),
    ),
    "spend": (("month", DATE), ("team", TEXT), ("amount", MONEY)),
    "subscriptions": (
        ("subscription_id", ID), ("account_id", ID), ("opportunity_id", ID),
        ("start_date", DATE), ("end_date", DATE), ("mrr", MONEY),
    ),
    "ma_contacts": (
        ("ma_contact_id", ID), ("email", TEXT), ("source", TEXT), ("created_at", TS),
    ),
    "identity_map": (
        ("ma_contact_id", ID), ("crm_contact_id", ID), ("status", TEXT), ("matched_at", TS),
    ),
    "source_systems": (("source_system", TEXT), ("name", TEXT), ("load_every_minutes", INT)),
    "sync_runs": (
        ("sync_run_id", ID), ("source_system", TEXT), ("target_system", TEXT),
        ("started_at", TS), ("finished_at", TS), ("status", TEXT), ("records_sent", ID),
        ("records_failed", ID),
    ),
}

# Primary keys and the indexes the metric queries filter or join on (PostgreSQL only:
# DuckDB's zone maps serve these scans better than ART indexes would).
PRIMARY_KEYS = {
    "users": ("user_id",),
    "accounts": ("account_id",),
    "contacts": ("contact_id",),
    "campaigns": ("campaign_id",),
    "opportunities": ("opportunity_id",),
    "leads": ("lead_id",),
    "touches": ("touch_id",),
    "opportunity_stage_history": ("opportunity_id", "stage_order"),
    "quotas": ("owner_id", "period_start"),
    "spend": ("month", "team"),
    "subscriptions": ("subscription_id",),
    "ma_contacts": ("ma_contact_id",),
    "identity_map": ("ma_contact_id",),
    "source_systems": ("source_system",),
    "sync_runs": ("sync_run_id",),
}
INDEXES = {
    "opportunities": (("close_date",), ("account_id",), ("owner_id",)),
    "leads": (("mql_at",), ("sql_at",), ("created_at",), ("account_id",)),
    "touches": (("account_id", "kind", "touched_at"),),
    "contacts": (("account_id",),),
    "quotas": (("period_start",),),
    "subscriptions": (("account_id",), ("start_date",)),
    "ma_contacts": (("created_at",),),
    "sync_runs": (("source_system", "target_system", "finished_at"), ("started_at",)),
}


# Random microsecond timestamps and unique e-mails barely compress, and analysing them for
# compression costs about half of the whole 10M-row generation: DuckDB stores them as they are.
UNCOMPRESSED = {
    ("contacts", "email"), ("opportunities", "created_at"), ("leads", "created_at"),
    ("leads", "mql_at"), ("leads", "sql_at"), ("leads", "first_follow_up_at"),
    ("touches", "touched_at"), ("opportunity_stage_history", "entered_at"),
    ("ma_contacts", "email"), ("ma_contacts", "created_at"),
}


def column_names(table: str) -> list[str]:
    """The contract's columns of `table`, in order."""
    return [name for name, _ in TABLES[table]]


def create_table_sql(table: str, dialect: str, qualified: str | None = None) -> str:
    """CREATE TABLE for `table` in 'duckdb' or 'postgresql', optionally under another name."""
    duck = dialect == "duckdb"
    cols = ", ".join(
        f"{name} {types[0 if duck else 1]}"
        + (" USING COMPRESSION uncompressed" if duck and (table, name) in UNCOMPRESSED else "")
        for name, types in TABLES[table])
    return f"CREATE TABLE {qualified or table} ({cols})"
