"""Copy a demo warehouse built in DuckDB into PostgreSQL, all of it in one transaction.

DuckDB's postgres extension cannot be installed offline, so rows travel as CSV through psycopg's
COPY. Readers of the target schema keep seeing the old tables until the commit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from metrics.demo_schema import INDEXES, PRIMARY_KEYS, TABLES, column_names, create_table_sql
from metrics.demo_target import GenerationFailed, Target, libpq_conninfo

CONNECT_TIMEOUT_S = 5
COPY_CHUNK = 1 << 20


def load(con: duckdb.DuckDBPyConnection, target: Target, progress) -> None:
    """Replace the contract tables in `target.schema` with those of `con`."""
    try:
        pg = psycopg.connect(libpq_conninfo(target.url), connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise GenerationFailed(f"cannot reach PostgreSQL at {target.label}: {_first_line(exc)}"
                               ) from None
    try:
        with pg, pg.cursor() as cur, tempfile.TemporaryDirectory() as scratch:
            # A reader holding a lock must not make the load hang forever.
            cur.execute("SET LOCAL lock_timeout = '15s'")
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(target.schema)))
            for done, table in enumerate(TABLES, 1):
                _load_table(con, cur, target.schema, table, Path(scratch))
                progress(f"postgres:{table}", done, len(TABLES))
    except psycopg.Error as exc:
        raise GenerationFailed(f"loading PostgreSQL failed, nothing was changed: "
                               f"{_first_line(exc)}") from None
    finally:
        pg.close()


def _load_table(con, cur: psycopg.Cursor, schema: str, table: str, scratch: Path) -> None:
    name = sql.Identifier(schema, table)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(name))
    cur.execute(create_table_sql(table, "postgresql", name.as_string(cur)))
    columns = column_names(table)
    csv = scratch / f"{table}.csv"
    con.execute(f"COPY (SELECT {', '.join(columns)} FROM {table}) TO '{csv}' "
                "(FORMAT csv, HEADER false)")
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        name, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(copy_sql) as copy, csv.open("rb") as source:
        while chunk := source.read(COPY_CHUNK):
            copy.write(chunk)
    csv.unlink()
    _add_keys(cur, schema, table)


def _add_keys(cur: psycopg.Cursor, schema: str, table: str) -> None:
    name = sql.Identifier(schema, table)
    cur.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
        name, sql.SQL(", ").join(map(sql.Identifier, PRIMARY_KEYS[table]))))
    for columns in INDEXES.get(table, ()):
        cur.execute(sql.SQL("CREATE INDEX ON {} ({})").format(
            name, sql.SQL(", ").join(map(sql.Identifier, columns))))
    cur.execute(sql.SQL("ANALYZE {}").format(name))


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
