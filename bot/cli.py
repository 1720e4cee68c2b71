"""`ssot`: one command line for everything the project does. A thin layer over the core."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import err, fail, out, settings_or_exit
from bot.cli_metrics import Channel, Group
from knowledge.errors import ContentError, InvalidQuestion
from knowledge.question import clean_question

app = typer.Typer(
    name="ssot", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    help="The revenue team's single source of truth: governed definitions, in chat and here.",
)


def _knowledge(load_model: bool = False):
    from bot.factory import build_knowledge

    try:
        return build_knowledge(settings_or_exit(), err, load_model=load_model)
    except ContentError as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False)
        raise fail(f"the glossary has {len(exc.issues)} problem(s); run `ssot validate`") from None


def _services(lazy_index: bool = False):
    from bot.factory import build_services
    from metrics.errors import DefinitionError

    try:
        return build_services(settings_or_exit(), err, lazy_index=lazy_index)
    except (ContentError, DefinitionError) as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False)
        raise fail(f"{len(exc.issues)} problem(s) in the governed content; "
                   "run `ssot validate`") from None


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read one per line.')],
    json_: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    channel: Channel = None, group: Group = None,
) -> None:
    """Answer a question from the governed glossary or a governed metric."""
    from metrics.audience import Audience

    audience = Audience(channel=channel, groups=frozenset(group or ()))
    if question == "-":
        if not json_:
            raise fail("reading questions from stdin needs --json (one JSON object a line)", 2)
        return _ask_stream(audience)
    try:
        question = clean_question(question)
    except InvalidQuestion as exc:
        raise fail(str(exc), 2) from None
    # The index is built only if the question needs searching ("what is an MQL?" does not).
    answer = _services(lazy_index=True).ask(question, audience)
    record_unanswered(answer, "cli")
    _print_answer(answer, json_)


def _print_answer(answer, json_: bool) -> None:
    if json_:
        print(answer.model_dump_json())
    else:
        from bot.render_text import render_answer  # rich's tables and panels: not for --json

        out.print(render_answer(answer))


def _ask_stream(audience) -> None:
    services = _services()
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\r\n")
        answer = services.ask(line.decode("utf-8", errors="replace"), audience)
        sys.stdout.write(answer.model_dump_json() + "\n")
        sys.stdout.flush()


@app.command()
def define(
    term: Annotated[str, typer.Argument(help="A term id, name or alias, e.g. mql.")],
    json_: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The definition in force on this day (YYYY-MM-DD), from the history.",
    )] = None,
) -> None:
    """Show one term's governed definition, looked up exactly."""
    answer = _define_as_of(term, as_of) if as_of is not None else _define_now(term)
    _print_answer(answer, json_)


def _define_now(term: str):
    # An exact lookup needs the glossary only; the index is built if the lookup falls short.
    try:
        term = clean_question(term)
    except InvalidQuestion as exc:
        raise fail(str(exc), 2) from None
    answer = _services(lazy_index=True).define(term)
    record_unanswered(answer, "cli")
    if answer.kind == "no_answer":
        names = [s.name for s in answer.suggestions]
        hint = f" Did you mean: {', '.join(names)}?" if names else ""
        raise fail(f"{answer.message}{hint}", 1)
    return answer


def _define_as_of(term: str, day: str):
    import datetime as dt

    from bot.cli_state import open_store
    from bot.state.as_of import answer_as_of
    from bot.state.errors import NotRecorded
    from metrics.errors import BadRequest
    from metrics.periods import check_day

    try:
        on = check_day(dt.date.fromisoformat(day))
    except ValueError:
        raise fail(f"--as-of: '{day}' is not a date like 2025-03-01", 2) from None
    except BadRequest as exc:
        raise fail(f"--as-of: {exc}", 2) from None
    try:
        return answer_as_of(open_store(), term, on, settings_or_exit().docs_base_url)
    except NotRecorded as exc:
        raise fail(str(exc), 1) from None


@app.command()
def glossary(
    domain: Annotated[str | None, typer.Option(help="Only terms of this domain.")] = None,
) -> None:
    """List the governed terms, by domain."""
    from rich.table import Table

    from knowledge.glossary import load_glossary
    from metrics.catalog import metric_ids

    settings = settings_or_exit()
    try:
        terms = load_glossary(settings.glossary_dir, metric_ids(settings.metrics_dir)).terms
    except ContentError as exc:
        raise fail(f"the glossary has {len(exc.issues)} problem(s); run `ssot validate`") from None
    domains = sorted({t.domain for t in terms.values()})
    if domain and domain not in domains:
        raise fail(f"unknown domain '{domain}'; domains: {', '.join(domains)}", 2)
    table = Table("id", "name", "domain", "owner", "status", "version", box=None)
    for term in sorted(terms.values(), key=lambda t: (t.domain, t.name.lower())):
        if domain in (None, term.domain):
            table.add_row(term.id, term.name, term.domain, term.owner.team, term.status,
                          term.version)
    out.print(table)


@app.command()
def validate(
    directory: Annotated[Path | None, typer.Argument(help="Glossary folder to check.")] = None,
    metrics_dir: Annotated[Path | None, typer.Option(
        "--metrics", help="Metric definitions folder to check (default: the configured one).")
    ] = None,
) -> None:
    """Check the glossary and the metric definitions; print every problem as path:line: field."""
    from knowledge.glossary import check_directory
    from knowledge.loading import load_directory
    from metrics.catalog import check_definitions, metric_ids

    settings = settings_or_exit()
    root = directory or settings.glossary_dir
    metrics_root = metrics_dir or settings.metrics_dir
    _, issues = check_directory(root, metric_ids(metrics_root))
    loaded = load_directory(root)
    catalog, metric_issues = check_definitions(metrics_root, {t.id: t for t in loaded.terms})
    issues = issues + metric_issues
    for issue in issues:
        print(issue)  # plain lines: editors and CI annotators parse path:line
    if issues:
        raise fail(f"{len(issues)} problem(s) in {root} and {metrics_root}", 1)
    out.print(f"ok: {len(loaded.terms)} terms and {len(loaded.guides)} guides in {root}; "
              f"{len(catalog.metrics)} metrics in {metrics_root}")


@app.command()
def index() -> None:
    """Build or refresh the on-disk embedding cache and search index."""
    import time

    start = time.perf_counter()
    # Loading the model here makes the ONNX export, when one is due, so no question waits for it.
    kb = _knowledge(load_model=True)
    stats = kb.index.stats
    out.print(
        f"indexed {stats.chunks} chunks: {stats.embedded} embedded, {stats.reused} from cache "
        f"({time.perf_counter() - start:.1f}s) → {settings_or_exit().cache_dir}"
    )


@app.command(name="eval")
def eval_(
    file: Annotated[Path, typer.Argument(
        help="JSONL of {question, expected, category}, or of labelled metric questions.")],
    misses: Annotated[bool, typer.Option("--misses", help="List every wrong answer.")] = False,
) -> None:
    """Score labelled questions: retrieval (with BM25-only and dense-only baselines), or metric
    questions read exactly as labelled (a file whose lines carry `today` and `refuse`)."""
    from knowledge.evaluation import best_threshold, read_questions, run, score
    from metrics.evaluation import is_metric_file

    if not file.is_file():
        raise fail(f"no such file: {file}", 2)
    if is_metric_file(file):
        return _eval_metric_questions(file, misses)
    questions = _labels(file, read_questions)
    kb = _knowledge()
    reports = [score(run(kb, questions, "hybrid"), "hybrid (project)", kb.threshold)]
    for mode in ("bm25", "dense"):
        reports.append(best_threshold(run(kb, questions, mode), f"{mode} only"))
    _print_eval(questions, reports, misses)


def _labels(file: Path, read: Callable[[Path], list]) -> list:
    """The file's labelled questions, or a one-line error after every bad line."""
    try:
        labels = read(file)
    except ContentError as exc:
        for issue in exc.issues:
            err.print(str(issue), markup=False)
        raise fail(f"{len(exc.issues)} bad line(s) in {file}", 2) from None
    if not labels:
        raise fail(f"{file} has no questions", 2)
    return labels


def _eval_metric_questions(file: Path, show_misses: bool) -> None:
    from rich.table import Table

    from metrics.evaluation import expected_text, read_metric_questions, run, score

    labels = _labels(file, read_metric_questions)
    services = _services()
    if services.metrics is None:
        raise fail("no warehouse is configured, so metric questions cannot be scored", 2)
    report = score(run(services, labels))
    out.print(f"{report.total} metric questions: {report.exact} answered exactly as labelled "
              f"({report.share:.1%}); {report.refused_without_number} of {report.refusals} "
              f"refusals gave no number; p50 {report.p50_ms:.1f} ms")
    table = Table("category", "exact", "of", "share")
    for category, (hits, total) in report.by_category.items():
        table.add_row(category, str(hits), str(total), f"{hits / total:.1%}")
    out.print(table)
    if show_misses:
        for miss in report.misses:
            print(f"MISS {miss.label.question!r} (today {miss.label.today}): expected "
                  f"{expected_text(miss.label)}; got {miss.got}")


def _print_eval(questions, reports, show_misses: bool) -> None:
    from rich.table import Table

    in_scope = sum(1 for q in questions if q.expected)
    out.print(f"{len(questions)} questions: {in_scope} in scope, {len(questions) - in_scope} "
              "out of scope (baselines at their own best threshold)")
    table = Table("retrieval", "threshold", "top-1 acc", "no_answer P", "no_answer R",
                  "p50 ms", "p99 ms")
    for r in reports:
        table.add_row(r.mode, f"{r.threshold:.3f}", f"{r.accuracy:.3f}", f"{r.na_precision:.3f}",
                      f"{r.na_recall:.3f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}")
    out.print(table)
    cats = Table("category", *[r.mode for r in reports], title="accuracy by category")
    for cat in reports[0].by_category:
        cats.add_row(cat, *[f"{r.by_category[cat]:.3f}" for r in reports])
    out.print(cats)
    groups = Table("group", "in scope", *[r.mode for r in reports],
                   title="top-1 accuracy in scope by group")
    for name, (_, n) in reports[0].by_group.items():
        groups.add_row(name, str(n), *[f"{r.by_group[name][0]:.3f}" for r in reports])
    groups.add_row("all", str(in_scope), *[f"{r.accuracy:.3f}" for r in reports])
    out.print(groups)
    if show_misses:
        for question, expected, got in reports[0].misses:
            print(f"MISS {question!r}: expected {expected or 'no_answer'}, got {got}")


@app.command()
def chat() -> None:
    """Try the bot in this terminal: questions, /define TERM, /metric ..., /help, /quit."""
    from bot.console import run_console

    run_console(_services(), out, record=lambda answer: record_unanswered(answer, "console"))


def record_unanswered(answer, surface: str) -> None:
    """A question without an answer joins the glossary owners' list (`ssot gaps`), from the
    command line and the console as from chat; failing to write it never fails the command."""
    if answer.kind != "no_answer" or not answer.question:
        return
    import getpass

    from sqlalchemy.exc import SQLAlchemyError

    from bot.state.store import StateStore

    try:
        store = StateStore.from_url(settings_or_exit().database_url)
        try:
            store.record_unanswered(answer.question, getpass.getuser(), None, surface=surface)
        finally:
            store.close()
    except (SQLAlchemyError, ValueError, OSError) as exc:
        err.print(f"note: not recorded for the glossary owners: {exc}", markup=False)


def _register_command_groups() -> None:
    """Each capability keeps its commands in its own module, registered here."""
    from bot import cli_data, cli_metrics, cli_slack, cli_state, cli_teams

    for module in (cli_metrics, cli_data, cli_slack, cli_state, cli_teams):
        module.register(app)


_register_command_groups()


def main() -> None:
    """`ssot`: anything unexpected is one line on stderr and exit 1, never a traceback.

    Set SSOT_DEBUG=1 to see the traceback as well.
    """
    # Commands report problems as one line; what the library logs is for `ssot serve`, which
    # sets up its own logging.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SSOT_DEBUG"):
            raise
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        err.print(f"error: {type(exc).__name__}: {reason} (SSOT_DEBUG=1 shows where)",
                  markup=False, soft_wrap=True)
        sys.exit(1)
