"""A read-only SQLAlchemy engine on the warehouse, with a bounded wait when it is down."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import registry

from metrics.errors import BadRequest


def warehouse_url(url: str) -> sa.URL:
    """Parse a warehouse URL; plain `postgresql://` means psycopg 3, the driver we ship."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise BadRequest(f"'{url}' is not a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def duckdb_path(url: str) -> Path | None:
    """The file behind a `duckdb:///` URL, or None for other warehouses and in-memory ones."""
    parsed = warehouse_url(url)
    if parsed.get_backend_name() != "duckdb" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def open_warehouse(url: str, timeout_s: float = 5.0) -> sa.Engine:
    """An engine that cannot write, and gives up connecting well inside `timeout_s`."""
    parsed = warehouse_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict = {}
    if backend == "duckdb":
        connect_args = {"read_only": True}
    elif backend == "postgresql":
        # Read-only at the session level as well as by the role the URL should use; keep any
        # options the URL brings (a search_path, say).
        given = parsed.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        connect_args = {
            "connect_timeout": max(2, int(timeout_s) - 2),
            "options": " ".join(filter(None, [
                given, "-c default_transaction_read_only=on",
                f"-c statement_timeout={int(timeout_s * 1000)}"])),
        }
    if backend == "duckdb":
        # Named here, SQLAlchemy finds the dialect without scanning every installed package's
        # entry points, which is a twentieth of a command's start.
        registry.register("duckdb", "duckdb_engine", "Dialect")
        # A local read-only file cannot drop idle connections or hold a transaction open, and
        # a ping or rollback around every query would cost as much as a small metric does.
        # Queries run on their callers' threads, however many answer at once: a connection
        # beyond the pool's eight is opened on the same in-process database, never waited for.
        return sa.create_engine(parsed, connect_args=connect_args, pool_reset_on_return=None,
                                pool_size=8, max_overflow=-1)
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
