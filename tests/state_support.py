"""Helpers for the state-store tests: real SQLite files and a private PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from bot.state.store import StateStore
from tests.conftest import ROOT

METRICS = ROOT / "metrics" / "definitions"


def postgres_url() -> str:
    """TEST_POSTGRES_URL, or skip: these tests need the real PostgreSQL service."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@"
                    "127.0.0.1:5432/test); the PostgreSQL variant of this test needs it")
    return url


@contextmanager
def postgres_store() -> Iterator[StateStore]:
    """A store in a fresh schema of its own, dropped afterwards, so parallel runs never meet."""
    url = postgres_url()
    name = f"ssot_test_{uuid.uuid4().hex[:12]}"
    store = StateStore.from_url(url, schema_name=name)
    try:
        yield store
    finally:
        store.close()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        engine.dispose()


@dataclass
class FreshDatabase:
    """A PostgreSQL database of its own: its URL, and a way to drop and re-create it."""

    url: str
    recreate: Callable[[], None]


@contextmanager
def fresh_database(prefix: str = "ssot_test") -> Iterator[FreshDatabase]:
    """A new, empty PostgreSQL database (skips without TEST_POSTGRES_URL), dropped afterwards."""
    base = sa.make_url(postgres_url())
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"

    def run(*statements: str) -> None:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    run(f'CREATE DATABASE "{name}"')
    try:
        yield FreshDatabase(
            url=base.set(database=name).render_as_string(hide_password=False),
            recreate=lambda: run(f'DROP DATABASE "{name}" WITH (FORCE)',
                                 f'CREATE DATABASE "{name}"'))
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def open_store(backend: str, tmp_path: Path) -> Iterator[StateStore]:
    """A store on a SQLite file under tmp_path, or on PostgreSQL."""
    if backend == "postgres":
        with postgres_store() as store:
            yield store
        return
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'var' / 'ssot.db'}")
    try:
        yield store
    finally:
        store.close()


def edit(path: Path, old: str, new: str) -> None:
    """Replace text that must be in the file (a silent no-op edit would prove nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def copy_metrics(target: Path) -> Path:
    """An editable copy of the metric definitions."""
    target.mkdir(parents=True, exist_ok=True)
    for path in METRICS.glob("*.yml"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return target
