"""A demo warehouse in its own PostgreSQL schema, and the closeness engine checks use."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa


@contextmanager
def postgres_warehouse(scale: int, seed: int, as_of: dt.date) -> Iterator[str]:
    """The URL of a generated demo warehouse on the real service, dropped afterwards."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL is not set; PostgreSQL checks run in CI")
    from metrics.demo_data import generate

    schema = f"wh_{uuid.uuid4().hex[:10]}"
    url = f"{base}?options=-csearch_path%3D{schema}"
    generate(url, scale=scale, seed=seed, as_of=as_of)
    try:
        yield url
    finally:
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def close(a: float | None, b: float | None) -> bool:
    """Equal to nine digits, or both missing."""
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)
