"""`ssot demo-data`: the deterministic demo warehouse."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from bot.cli_common import err, fail, out, settings_or_exit


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
    app.command(name="demo-data")(demo_data)


def demo_data(
    scale: Annotated[str, typer.Option(
        metavar="N", help="Number of opportunities (1 to 100,000,000).")] = "20000",
    seed: Annotated[str, typer.Option(
        metavar="S", help="Seed: same seed, scale and date, same data.")] = "42",
    out_: Annotated[str | None, typer.Option(
        "--out", metavar="PATH|URL", help="A DuckDB path, duckdb:///path or postgresql://... "
                                          "URL (default: the configured warehouse).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="DATE",
        help="Last day of history, YYYY-MM-DD (default: SSOT_AS_OF or today).")] = None,
) -> None:
    """Write the demo revenue warehouse: accounts, leads, opportunities, quotas, spend."""
    from metrics.demo_data import generate
    from metrics.demo_target import BadRequest, GenerationFailed

    settings = settings_or_exit()
    day = _date(as_of) if as_of else (settings.as_of or dt.date.today())
    request = dict(scale=_whole(scale, "--scale"), seed=_whole(seed, "--seed"), as_of=day)
    with _progress() as bar:
        task = bar.add_task("starting", total=None)

        def on_progress(table: str, done: int, total: int) -> None:
            bar.update(task, description=table, completed=done, total=total)

        try:
            report = generate(out_ or settings.warehouse, on_progress=on_progress, **request)
        except BadRequest as exc:
            raise fail(str(exc), 2) from None
        except GenerationFailed as exc:
            raise fail(str(exc), 1) from None
    _print_report(report)


def _progress():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


def _whole(text: str, option: str) -> int:
    try:
        return int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise fail(f"{option} must be a whole number, got {text!r}", 2) from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--as-of must be a date like 2026-09-30, got {text!r}", 2) from None


def _print_report(report) -> None:
    from rich.table import Column, Table

    table = Table("table", Column("rows", justify="right"), box=None)
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    out.print(table)
    out.print(f"wrote {report.scale:,} opportunities (seed {report.seed}, as of {report.as_of}) "
              f"to {report.target} in {report.seconds:.1f} s", soft_wrap=True)
