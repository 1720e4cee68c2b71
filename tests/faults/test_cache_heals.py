"""A damaged file under SSOT_CACHE_DIR costs one warning and a rebuild, never the start-up."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.cache import EmbeddingCache
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids
from tests.conftest import GLOSSARY

DAMAGE = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[: len(good) // 2],
    "garbage": lambda good: b"\x00not a cache file\xff" * 64,
}


def build(model, cache: Path) -> KnowledgeBase:
    return KnowledgeBase(GLOSSARY, model, cache, metric_ids=metric_ids)


@pytest.fixture(scope="module")
def pristine(model, kb, tmp_path_factory) -> Path:
    """A whole cache of the real glossary, started from the session's own vectors (other tests
    may have left an edited corpus there): each test damages a copy of it."""
    cache = tmp_path_factory.mktemp("pristine-cache")
    shutil.copytree(kb.cache_dir, cache, dirs_exist_ok=True)
    build(model, cache)
    return cache


def one_file(cache: Path, pattern: str) -> Path:
    [path] = cache.glob(pattern)
    return path


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("cached", ["vectors-*.npy", "embeddings-*.npz"])
def test_a_damaged_cache_file_is_discarded_once_and_rebuilt(model, pristine, tmp_path, caplog,
                                                            cached, damage):
    cache = tmp_path / "cache"
    shutil.copytree(pristine, cache)
    path = one_file(cache, cached)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    if path.suffix == ".npz":
        # The vectors are read only when the index has to be built again (after an edit, or
        # when it is gone): without it, start-up must read the damaged file.
        one_file(cache, "vectors-*.npy").unlink()

    kb = build(model, cache)

    answer = kb.ask("what is an MQL?")
    assert answer.kind == "definition" and answer.id == "mql"
    warnings = warnings_in(caplog)
    assert len(warnings) == 1, warnings
    assert path.name in warnings[0] and "rebuilding" in warnings[0]
    # A vector file is re-embedded; a damaged index is rebuilt from the vectors on disk.
    chunks, texts = kb.index.stats.chunks, len({c.digest for c in kb.index.chunks})
    assert kb.index.stats.embedded == (texts if path.suffix == ".npz" else 0)

    caplog.clear()
    restarted = build(model, cache)
    assert restarted.index.stats.reused == chunks  # the index on disk is whole again
    vectors = EmbeddingCache(cache, model.model_id, model.dimension)
    assert len(vectors) == texts  # and so are the vectors
    assert len(np.load(one_file(cache, "vectors-*.npy"))) == chunks
    assert warnings_in(caplog) == []
