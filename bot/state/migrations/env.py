"""Alembic's environment: runs the revisions on the connection `bot.state.migrate` hands over.

Without one (the `alembic` command, e.g. to write a revision), it opens `sqlalchemy.url`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.state.schema import metadata


def run(connection: Connection) -> None:
    """Run the revisions asked for, inside the caller's transaction when there is one."""
    # render_as_batch: a generated revision alters tables in ways SQLite can run too.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as opened:
        run(opened)
    engine.dispose()
