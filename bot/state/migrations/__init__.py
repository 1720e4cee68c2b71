"""The state store's schema revisions (Alembic), run by `bot.state.migrate`.

A schema change is a new file in `versions/` whose `down_revision` is the current head, and
the matching change to `bot/state/schema.py`; `tests/test_state_migrations.py` checks that the
two agree. Write each step with `op.batch_alter_table`, so SQLite (which copies the table)
and PostgreSQL (which alters it in place) both run it.
"""
