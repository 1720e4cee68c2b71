"""Shared fixtures: the real embedding model, real glossary files copied to a temp folder."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from knowledge.chunking import chunk_glossary
from knowledge.embedding import SentenceTransformerEmbedder, default_model_path
from knowledge.glossary import load_glossary
from knowledge.onnx_export import prepare
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids

# The running-app fixtures of tests/faults/ (a second conftest.py would clash with this one).
pytest_plugins = ["tests.faults.support"]

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "glossary_docs"
# "Today" for every metric test, so periods and the demo data are reproducible.
AS_OF = dt.date(2026, 11, 15)


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def encode(self, texts, progress=None):
        self.texts.extend(texts)
        return self.inner.encode(texts, progress)


@pytest.fixture(scope="session", autouse=True)
def private_state_store(tmp_path_factory):
    """Whatever a test runs (`ssot ask` records unanswered questions) keeps its state in a
    temporary store, never in the checkout's `var/ssot.db`."""
    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('state') / 'ssot.db'}"
    yield
    if before is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = before


@pytest.fixture(scope="session")
def model() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture
def embedder(model) -> CountingEmbedder:
    return CountingEmbedder(model)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A private, editable copy of the governed glossary."""
    target = tmp_path / "glossary_docs"
    shutil.copytree(GLOSSARY, target)
    return target


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory, model) -> Path:
    """One embedding cache for every test that only needs an index (vectors keyed by text).

    It holds the checked ONNX export too, so a `ssot` process started on it never imports
    torch (as after `ssot index`).
    """
    cache = tmp_path_factory.mktemp("cache")
    prepare(Path(default_model_path()), cache, glossary_texts, lambda: model)
    return cache


def glossary_texts() -> list[str]:
    """The governed glossary's chunk texts: what an ONNX export is checked on."""
    return [c.text for c in chunk_glossary(load_glossary(GLOSSARY, metric_ids()))]


def seed_onnx(shared: Path, cache: Path) -> None:
    """Give a fresh cache folder the checked ONNX export, as `ssot index` would have made it."""
    shutil.copytree(shared / "onnx", cache / "onnx", dirs_exist_ok=True)


@pytest.fixture(scope="session")
def kb(model, shared_cache) -> KnowledgeBase:
    """A knowledge base over the real glossary, shared by read-only tests."""
    return KnowledgeBase(GLOSSARY, model, shared_cache, metric_ids=metric_ids)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory) -> str:
    """A demo warehouse (20,000 opportunities, fixed seed and date) shared by read-only tests."""
    from metrics.demo_data import generate

    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    generate(path, scale=20_000, seed=42, as_of=AS_OF)
    return f"duckdb:///{path}"


@pytest.fixture(scope="session")
def metric_engine(warehouse_url):
    """The metric engine over the shared demo warehouse, with "today" fixed at AS_OF."""
    from metrics.catalog import load_catalog
    from metrics.engine import MetricEngine
    from metrics.periods import Calendar
    from metrics.warehouse import open_warehouse

    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                        open_warehouse(warehouse_url), lambda: Calendar(AS_OF))


@pytest.fixture
def teams_api():
    """A recording Bot Connector stand-in on loopback (see tests/teams_standin.py)."""
    from tests.teams_standin import TeamsStandIn

    standin = TeamsStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def slack_api():
    """A recording Slack Web API stand-in on loopback (see tests/slack_standin.py)."""
    from tests.slack_standin import SlackStandIn

    standin = SlackStandIn().start()
    yield standin
    standin.stop()
