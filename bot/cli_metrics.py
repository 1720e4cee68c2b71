"""`ssot metrics`, `ssot metric`, `ssot sql`: governed metrics on the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import err, fail, out, settings_or_exit
from metrics.audience import Audience
from metrics.errors import BadRequest, DefinitionError, MetricUserError, UnknownMetric
from metrics.periods import check_day

Period = Annotated[str | None, typer.Option("--period", "-p", help="e.g. last_quarter, 2026-Q3, "
                                            "2026-05, ytd, 2026-01-01..2026-03-31.")]
By = Annotated[list[str] | None, typer.Option(
    "--by", help="Break down by a dimension, or by time: day, week, month, quarter, year.")]
Where = Annotated[list[str] | None, typer.Option(
    "--where", help="Filter: DIM=VALUE; several values (DIM=A,B or repeated) keep any of them.")]
Compare = Annotated[str | None, typer.Option(
    "--compare", help="Compare with another period, e.g. last_quarter, 2025.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Treat this date as today.")]
Channel = Annotated[str | None, typer.Option("--channel", help="Ask as this channel.")]
Group = Annotated[list[str] | None, typer.Option("--group", help="Ask as a member of a group.")]


def _terms(settings) -> dict:
    """The glossary's terms, for the metric ↔ term agreement check (as `ssot validate`)."""
    from knowledge.loading import load_directory

    return {t.id: t for t in load_directory(settings.glossary_dir).terms}


def _bad_definitions(exc: DefinitionError) -> typer.Exit:
    for issue in exc.issues:
        err.print(str(issue), markup=False)
    return fail(f"{len(exc.issues)} problem(s) in the metric definitions")


def _engine(as_of: str | None = None):
    from bot.factory import build_metrics

    settings = settings_or_exit()
    if as_of:
        try:
            day = check_day(dt.date.fromisoformat(as_of))
        except ValueError:
            raise fail(f"--as-of '{as_of}' is not a date like 2026-03-31", 2) from None
        except BadRequest as exc:
            raise fail(f"--as-of: {exc}", 2) from None
        settings = settings.model_copy(update={"as_of": day})
    _configured_warehouse_exists(settings)
    try:
        return build_metrics(settings, _terms(settings), err)
    except DefinitionError as exc:
        raise _bad_definitions(exc) from None
    except MetricUserError as exc:
        raise fail(str(exc), 2) from None


def _configured_warehouse_exists(settings) -> None:
    """A configured DuckDB file that is missing is an error, never replaced by demo data."""
    from metrics.warehouse import duckdb_path

    try:
        path = duckdb_path(settings.warehouse)
    except MetricUserError as exc:
        raise fail(f"WAREHOUSE_URL: {exc}", 2) from None
    if not settings.demo and path is not None and not path.exists():
        raise fail(f"the warehouse {path} (WAREHOUSE_URL) does not exist; nothing was "
                   f"computed. `ssot demo-data --out {path}` writes a demo warehouse there "
                   "if that is what you want", 1)


def _where(pairs: list[str] | None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pair in pairs or []:
        dim, sep, value = pair.partition("=")
        values = [v.strip() for v in value.split(",")]
        if not sep or not dim.strip() or not all(values):
            raise fail(f"--where '{pair}' must look like DIM=VALUE or DIM=VALUE,VALUE, "
                       "e.g. region=EMEA,APAC", 2)
        found.setdefault(dim.strip().lower(), []).extend(values)
    return found


def _plan(engine, metric, period, by, where, channel, groups, compare=None):
    audience = Audience(channel=channel, groups=frozenset(groups or ()))
    try:
        return engine.plan(metric, period, [b.strip().lower() for b in by or []], _where(where),
                           audience, compare=compare)
    except MetricUserError as exc:
        raise fail(str(exc), 2 if isinstance(exc, BadRequest | UnknownMetric) else 1) from None


def metrics_catalogue() -> None:
    """List the governed metrics: id, format, dimensions, visibility, owner."""
    from rich.table import Table

    from metrics.catalog import load_catalog

    settings = settings_or_exit()
    try:
        catalog = load_catalog(settings.metrics_dir, _terms(settings))
    except DefinitionError as exc:
        raise _bad_definitions(exc) from None
    table = Table("id", "format", "by", "visibility", "owner", box=None)
    for m in sorted(catalog, key=lambda m: m.id):
        table.add_row(m.id, m.format, ",".join(m.dimensions) or "-",
                      "restricted" if m.restricted else "public", m.owner.team)
    out.print(table)


def metric(
    metric_id: Annotated[str, typer.Argument(metavar="ID", help="Metric id or name.")],
    period: Period = None, by: By = None, where: Where = None, compare: Compare = None,
    as_of: AsOf = None, channel: Channel = None, group: Group = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Also draw the breakdown as a PNG at this path.")] = None,
) -> None:
    """Compute a governed metric for a period, optionally broken down, filtered, compared."""
    from bot.render_text import render_result

    engine = _engine(as_of)
    plan = _plan(engine, metric_id, period, by, where, channel, group, compare)
    try:
        result = engine.run(plan)
    except MetricUserError as exc:
        raise fail(str(exc), 1) from None
    if chart is not None:
        _draw(result, chart, engine.currency)
    if not json_:
        out.print(render_result(result))
        return
    print(json.dumps({
        "metric": result.metric, "value": result.value, "formatted": result.formatted,
        "period": result.period.model_dump(mode="json", include={"start", "end"})
        if result.period else None,
        "rows": [{**row.dimensions, "value": row.value} for row in result.rows],
        "target": result.target.model_dump(mode="json") if result.target else None,
        "sql": result.sql, "demo": result.demo, "interpretation": result.interpretation,
        "comparison": result.comparison.model_dump(mode="json") if result.comparison else None,
    }))


def _draw(result, path: Path, currency: str) -> None:
    """The chart chat shows for a breakdown, written whole or not at all."""
    from metrics.charts import chartable, draw

    if not chartable(result):
        raise fail("nothing to chart: break the metric down, e.g. --by month or --by region", 1)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(draw(result, currency))
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise fail(f"cannot write the chart to {path}: {exc.strerror or exc}", 1) from None
    err.print(f"chart written to {path}", markup=False, soft_wrap=True)


def sql(
    metric_id: Annotated[str, typer.Argument(metavar="ID", help="Metric id or name.")],
    period: Period = None, by: By = None, where: Where = None, as_of: AsOf = None,
    channel: Channel = None, group: Group = None,
    dialect: Annotated[str | None, typer.Option(
        help="duckdb, postgresql, snowflake or bigquery (default: the warehouse's).")] = None,
) -> None:
    """Print the governed SQL a metric runs, to check the work."""
    from metrics.rendering import DIALECTS

    if dialect and dialect not in DIALECTS:
        raise fail(f"unknown dialect '{dialect}'; choose from {', '.join(DIALECTS)}", 2)
    engine = _engine(as_of)
    plan = _plan(engine, metric_id, period, by, where, channel, group)
    print(engine.sql(plan, dialect))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `ssot` app."""
    app.command(name="metrics")(metrics_catalogue)
    app.command()(metric)
    app.command()(sql)
