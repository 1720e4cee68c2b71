"""Show the governed SQL for people to check: values inlined, one clause a line, any dialect."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

DIALECTS = ("duckdb", "postgresql", "snowflake", "bigquery")


def render_sql(statement: sa.Select, dialect: str, engine: sa.Engine | None = None) -> str:
    """`statement` as text for `dialect`; execution always uses bound parameters instead."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect '{dialect}'; choose from {', '.join(DIALECTS)}")
    if engine is not None and engine.dialect.name == dialect:
        compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    else:
        compiled = statement.compile(dialect=postgresql.dialect(),
                                     compile_kwargs={"literal_binds": True})
    # Postgres and duckdb-engine share SQLAlchemy's postgres compiler; sqlglot pretty-prints
    # and carries the statement to warehouses whose SQLAlchemy dialects we do not install.
    target = "postgres" if dialect == "postgresql" else dialect
    import sqlglot  # with its dialects, a tenth of a second: only for commands that show SQL

    return sqlglot.transpile(str(compiled), read="postgres", write=target, pretty=True)[0]
