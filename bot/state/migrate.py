"""Bring a state store's tables to the newest schema revision (Alembic, run in-process).

No `alembic.ini`: the revisions are found beside this module, in `migrations/`, and run on
the caller's connection, inside its transaction (and the lock it holds). A store written
before there were migrations has the tables but no `alembic_version`: it is recorded as the
baseline revision, then upgraded like any other.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.state import schema
from bot.state.errors import UnknownRevision

MIGRATIONS = Path(__file__).with_name("migrations")
# The schema of the release before migrations, which made its tables with create_all.
BASELINE = "0001"
# Alembic's own record of the revision a database is at.
_version = Table("alembic_version", MetaData(), Column("version_num", String(32)))
# Alembic keeps the running migration in module globals: one at a time per process. Always
# taken after the database's own lock, so two stores on different databases cannot deadlock.
_running = threading.Lock()


@dataclass(frozen=True)
class Migration:
    """What bringing a store to the newest revision did."""

    before: str | None
    after: str
    stamped: str | None = None

    @property
    def changed(self) -> bool:
        """Whether anything was written: a revision recorded or an upgrade run."""
        return self.stamped is not None or self.before != self.after

    def __str__(self) -> str:
        at = f"state store at {self.after} (head)"
        if self.stamped and self.stamped != self.after:
            return (f"recorded the tables from before migrations as {self.stamped}, "
                    f"upgraded to {self.after}; {at}")
        if self.stamped:
            return f"recorded the tables as {self.stamped}; {at}"
        if self.before is None:
            return f"created the tables; {at}"
        if self.before != self.after:
            return f"upgraded from {self.before} to {self.after}; {at}"
        return at


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made here rather than read from a file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every revision this release knows, newest first."""
    return tuple(s.revision for s in ScriptDirectory.from_config(config()).walk_revisions())


def head() -> str:
    """The newest revision: the shape `bot.state.schema` describes."""
    return revisions()[0]


def recorded(conn: Connection) -> str | None:
    """The revision the store says it is at: one query, no lock; None if it says nothing."""
    try:
        return conn.scalar(select(_version.c.version_num))
    except SQLAlchemyError:
        conn.rollback()  # no alembic_version: the caller takes the lock and finds out why
        return None


def upgrade(conn: Connection) -> Migration:
    """Upgrade to the newest revision; the caller holds the schema lock and commits."""
    with _running, on_store_schema(conn):
        before = MigrationContext.configure(conn).get_current_revision()
        if before is not None and before not in revisions():
            raise UnknownRevision(before, head())
        stamped = None
        if before is None and _has_tables(conn):
            stamped = head() if _is_head_shape(conn) else BASELINE
            command.stamp(config(conn), stamped)
        if (stamped or before) != head():
            command.upgrade(config(conn), "head")
    return Migration(before=before, after=head(), stamped=stamped)


@contextmanager
def on_store_schema(conn: Connection) -> Iterator[None]:
    """Make the store's own PostgreSQL schema the one unqualified names mean, for a while.

    A store in a schema of its own reaches it through `schema_translate_map`, which Alembic's
    ALTER statements and its reflection do not consult: the search path covers them.
    """
    name = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    if conn.dialect.name != "postgresql" or not name:
        yield
        return
    previous = conn.scalar(text("SELECT current_setting('search_path')"))
    conn.execute(text("SELECT set_config('search_path', :path, true)"),
                 {"path": f'"{name}"'})
    try:
        yield
    finally:
        conn.execute(text("SELECT set_config('search_path', :path, true)"), {"path": previous})


def _has_tables(conn: Connection) -> bool:
    return bool(set(inspect(conn).get_table_names()) & set(schema.metadata.tables))


def _is_head_shape(conn: Connection) -> bool:
    # A store whose alembic_version was lost after an upgrade: its tables are the newest.
    columns = {c["name"] for c in inspect(conn).get_columns(schema.outbox.name)}
    return "posted_id" in columns
