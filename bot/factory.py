"""Build the knowledge base from settings, with a progress bar while embedding."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot.settings import Settings
from knowledge.embedding import SentenceTransformerEmbedder
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids


@contextmanager
def embedding_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A callback `(done, total)` that shows a bar only once there is something to embed."""
    progress = Progress(
        TextColumn("embedding glossary chunks"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console, transient=True,
    )
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task("embed", total=total)
        progress.update(task, completed=done)

    try:
        yield update
    finally:
        progress.stop()


def build_knowledge(settings: Settings, console: Console | None = None) -> KnowledgeBase:
    """Load the model and glossary; embeds only what the on-disk cache lacks."""
    console = console or Console(stderr=True)
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    with embedding_progress(console) as on_embed:
        return KnowledgeBase(
            settings.glossary_dir, embedder, settings.cache_dir,
            metric_ids=lambda: metric_ids(settings.metrics_dir),
            docs_base_url=settings.docs_base_url, threshold=settings.answer_threshold,
            on_embed=on_embed,
        )
