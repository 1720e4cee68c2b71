"""Build the knowledge base from settings, with a progress bar while embedding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

from bot.services import Services
from bot.settings import Settings
from knowledge.chunking import chunk_glossary
from knowledge.embedders import make_embedder
from knowledge.glossary import load_glossary
from knowledge.service import KnowledgeBase
from metrics.breaker import Breaker
from metrics.catalog import load_catalog, metric_ids
from metrics.engine import MetricEngine
from metrics.errors import MetricError
from metrics.periods import Calendar
from metrics.warehouse import duckdb_path, open_warehouse


@contextmanager
def embedding_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A callback `(done, total)` that shows a bar only once there is something to embed."""
    progress = task = None

    def update(done: int, total: int) -> None:
        nonlocal progress, task
        if progress is None:
            progress = _bar(console)
            progress.start()
            task = progress.add_task("embed", total=total)
        progress.update(task, completed=done)
        if done >= total:  # an index built after `with` ended (lazily) must not leave a bar
            progress.stop()
            progress = None

    try:
        yield update
    finally:
        if progress is not None:
            progress.stop()


def _bar(console: Console):
    # Imported only when something is embedded: a start from the cache shows no bar.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("embedding glossary chunks"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


def build_knowledge(settings: Settings, console: Console | None = None, *,
                    load_model: bool = False, lazy_index: bool = False) -> KnowledgeBase:
    """The glossary and its index; embeds only what the on-disk cache lacks.

    The model is loaded when something is first embedded, or now with `load_model` (`ssot
    index` and servers: the ONNX export, if one is due, happens before the first question).
    """
    console = console or Console(stderr=True)

    def chunk_texts() -> list[str]:  # what an ONNX export is checked on
        glossary = load_glossary(settings.glossary_dir, metric_ids(settings.metrics_dir))
        return [c.text for c in chunk_glossary(glossary)]

    embedder = make_embedder(settings.embedding_model, settings.cache_dir,
                             settings.embedding_backend, chunk_texts)
    if load_model and hasattr(embedder, "load"):
        embedder.load()
    with embedding_progress(console) as on_embed:
        return KnowledgeBase(
            settings.glossary_dir, embedder, settings.cache_dir,
            metric_ids=lambda: metric_ids(settings.metrics_dir),
            docs_base_url=settings.docs_base_url, threshold=settings.answer_threshold,
            on_embed=on_embed, lazy_index=lazy_index,
        )


def build_metrics(settings: Settings, terms: dict | None = None,
                  console: Console | None = None) -> MetricEngine:
    """The metric engine over the configured warehouse (the demo one is made on first use).

    Only the default embedded path is ever filled with demo data: a configured warehouse that
    is missing is an error people see (metric answers say it cannot be opened), never
    replaced by synthetic numbers.
    """
    catalog = load_catalog(settings.metrics_dir, terms)
    path = duckdb_path(settings.warehouse)
    demo = settings.demo
    console = console or Console(stderr=True)
    if demo and path is not None and not path.exists():
        try:
            _make_demo_warehouse(path, settings, console)
        except (OSError, MetricError) as exc:
            # Definitions must keep working; metric answers will say the warehouse is missing.
            console.print(f"warning: no demo warehouse: {exc}", markup=False)
    elif path is not None and not path.exists():
        console.print(f"warning: the warehouse {path} does not exist; metric questions will "
                      "say so until it does (WAREHOUSE_URL)", markup=False)

    def calendar() -> Calendar:
        return Calendar(settings.as_of or dt.date.today(), settings.fiscal_year_start_month)

    warehouse = open_warehouse(settings.warehouse, settings.warehouse_timeout_s)
    return MetricEngine(catalog, warehouse, calendar, settings.currency,
                        breaker=Breaker(settings.warehouse_timeout_s,
                                        settings.warehouse_retry_s),
                        demo=demo)


def _make_demo_warehouse(path, settings: Settings, console: Console) -> None:
    from metrics.demo_data import ensure_warehouse

    console.print(f"no warehouse at {path}: generating the demo warehouse (`ssot demo-data`)")
    ensure_warehouse(path, as_of=settings.as_of or dt.date.today())


def build_services(settings: Settings, console: Console | None = None, *,
                   load_model: bool = False, lazy_index: bool = False) -> Services:
    """Glossary and metrics behind one `Services`, as every surface uses them."""
    knowledge = build_knowledge(settings, console, load_model=load_model, lazy_index=lazy_index)
    engine = build_metrics(settings, knowledge.glossary.terms, console)
    return Services(knowledge, engine, docs_base_url=settings.docs_base_url,
                    current_value_ttl_s=settings.current_value_refresh_s,
                    metrics_dir=settings.metrics_dir)
