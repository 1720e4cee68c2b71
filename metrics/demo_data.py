"""The demo revenue warehouse: `generate()` writes it, `ensure_warehouse()` creates it on first use.

Same (scale, seed, as_of) gives the same table contents. A DuckDB file is built next to its
target and renamed into place; PostgreSQL is loaded in one transaction. Either way a failed or
interrupted run leaves the previous warehouse (or nothing) behind, never half of a new one.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict

from metrics import demo_billing, demo_integrations, demo_sql
from metrics.demo_plan import Plan
from metrics.demo_schema import TABLES, create_table_sql
from metrics.demo_target import BadRequest, GenerationFailed, Target, parse_target

Progress = Callable[[str, int, int], None]
MAX_SCALE = 100_000_000
DEFAULT_SCALE = 20_000
DEFAULT_SEED = 42
# Each step fills one table from those before it.
STEPS = (*demo_sql.STEPS, *demo_billing.STEPS, *demo_integrations.STEPS)


class GenerationReport(BaseModel):
    """What was written where, how many rows per table, and how long it took."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str
    scale: int
    seed: int
    as_of: dt.date
    rows: dict[str, int]
    seconds: float


def generate(
    out: str | Path,
    *,
    scale: int = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    as_of: dt.date,
    on_progress: Progress | None = None,
) -> GenerationReport:
    """Write the demo warehouse to a DuckDB path/URL or a PostgreSQL URL."""
    _check_request(scale, seed, as_of)
    target = parse_target(out)
    plan = Plan(scale=scale, seed=seed, as_of=as_of)
    progress = on_progress or (lambda table, done, total: None)
    started = time.perf_counter()
    if target.path is not None:
        rows = _write_duckdb_file(plan, target.path, progress)
    else:
        rows = _write_postgres(plan, target, progress)
    return GenerationReport(target=target.label, scale=scale, seed=seed, as_of=as_of,
                            rows=rows, seconds=time.perf_counter() - started)


def ensure_warehouse(
    path: str | Path, as_of: dt.date, seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE
) -> Path:
    """The DuckDB warehouse at `path` (a path or duckdb:/// URL), generated if absent."""
    target = parse_target(path)
    if target.path is None:
        raise BadRequest("only a DuckDB warehouse can be created on first use")
    if not target.path.exists():
        generate(target.path, scale=scale, seed=seed, as_of=as_of)
    return target.path


def build(con: duckdb.DuckDBPyConnection, plan: Plan, progress: Progress) -> dict[str, int]:
    """Create and fill every contract table on an open DuckDB connection; row counts."""
    con.execute("SET enable_progress_bar = false")
    # Row order is not part of the contract and keeping it serialises the writers.
    con.execute("SET preserve_insertion_order = false")
    for table in TABLES:
        con.execute(create_table_sql(table, "duckdb"))
    for done, (table, step) in enumerate(STEPS, 1):
        con.execute(step(plan))
        progress(table, done, len(STEPS))
    return row_counts(con)


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per contract table."""
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _check_request(scale: int, seed: int, as_of: dt.date) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise BadRequest(f"scale must be a whole number of opportunities >= 1, got {scale!r}")
    if scale > MAX_SCALE:
        raise BadRequest(f"scale must be at most {MAX_SCALE:,}, got {scale:,}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise BadRequest(f"seed must be a whole number from 0 to {2**31 - 1}, got {seed!r}")
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise BadRequest(f"as_of must be a date, got {as_of!r}")
    if not dt.date(1990, 1, 1) <= as_of <= dt.date(2200, 1, 1):
        raise BadRequest(f"as_of {as_of} is out of range (1990-01-01..2200-01-01)")


def _write_duckdb_file(plan: Plan, path: Path, progress: Progress) -> dict[str, int]:
    """Build into a hidden file beside `path`, then rename it into place."""
    path = path.absolute()
    if path.is_dir():
        raise GenerationFailed(f"cannot write {path}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenerationFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        con = duckdb.connect(str(temp))
        try:
            rows = build(con, plan, progress)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        # A write-ahead log left by an older file of this name would be replayed onto ours.
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(temp, path)
        return rows
    except (OSError, duckdb.IOException, duckdb.PermissionException) as exc:
        raise GenerationFailed(f"cannot write {path}: {_one_line(exc)}") from None
    finally:
        for leftover in (temp, Path(f"{temp}.wal")):
            leftover.unlink(missing_ok=True)


def _write_postgres(plan: Plan, target: Target, progress: Progress) -> dict[str, int]:
    """Generate in memory, then load PostgreSQL in one transaction."""
    from metrics.demo_postgres import load

    con = duckdb.connect(":memory:")
    try:
        rows = build(con, plan, progress)
        load(con, target, progress)
        return rows
    finally:
        con.close()


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split()) or type(exc).__name__
