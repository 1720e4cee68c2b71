"""Which embedder a process uses, made only when something is first embedded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from knowledge.embedding import (
    Embedder,
    Progress,
    SentenceTransformerEmbedder,
    default_model_path,
    model_id,
)

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
Backend = Literal["onnx", "torch"]
Texts = Callable[[], Sequence[str]]


def open_embedder(model: str | None, cache_dir: Path, backend: Backend = "onnx",
                  texts: Texts = lambda: (),
                  reference: SentenceTransformerEmbedder | None = None) -> Embedder:
    """ONNX Runtime over a checked export of the model, else sentence-transformers.

    `texts` gives the chunks the export is checked on; `reference`, the sentence-transformers
    model when one is loaded already. Whatever keeps ONNX Runtime out is one logged line; the
    answers are the same either way, only slower to start.
    """
    source = model or default_model_path()
    if backend == "torch":
        return reference or SentenceTransformerEmbedder(source)
    made: list[SentenceTransformerEmbedder] = [reference] if reference else []

    def loaded() -> SentenceTransformerEmbedder:
        if not made:
            made.append(SentenceTransformerEmbedder(source))
        return made[0]

    try:
        return onnx_embedder(source, cache_dir, texts, loaded)
    except Exception as exc:  # a broken export must never stop answers: they have a fallback
        log.warning("embedding with sentence-transformers instead of ONNX Runtime: %s", exc)
        return loaded()


def onnx_embedder(source: str, cache_dir: Path, texts: Texts,
                  reference: Callable[[], SentenceTransformerEmbedder]) -> Embedder:
    """An OnnxEmbedder over the checked export of `source`, exporting it first if need be."""
    from knowledge.onnx_embedding import OnnxEmbedder
    from knowledge.onnx_export import OnnxRefused, prepare

    folder = Path(source)
    if not folder.is_dir():
        raise OnnxRefused(f"{source} is not a model folder on this machine")
    path = prepare(folder, cache_dir, texts, reference)
    return OnnxEmbedder(path, folder, model_id(source))


class LazyEmbedder:
    """Knows its model's id and width at once; loads the model on the first encode.

    A warm cache builds the index from those two alone, so `ssot define` and a restart with
    nothing new to embed never load a model at all.
    """

    def __init__(self, model: str | None, cache_dir: Path, backend: Backend = "onnx",
                 texts: Texts = lambda: ()) -> None:
        from knowledge.model_layout import ModelLayout

        self._args = (model, cache_dir, backend, texts)
        source = model or default_model_path()
        self.model_id = model_id(source)
        self.dimension = ModelLayout.read(Path(source)).dimension
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    def load(self) -> Embedder:
        """The real embedder, made once."""
        with self._lock:
            if self._loaded is None:
                self._loaded = open_embedder(*self._args)
                if self._loaded.dimension != self.dimension:
                    raise ValueError(f"the model gives vectors of dimension "
                                     f"{self._loaded.dimension}, its configuration says "
                                     f"{self.dimension}")
            return self._loaded

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return self.load().encode(texts, progress)


def make_embedder(model: str | None, cache_dir: Path, backend: Backend = "onnx",
                  texts: Texts = lambda: ()) -> Embedder:
    """A LazyEmbedder for a local folder; a model known only by name is loaded now."""
    from knowledge.model_layout import UnsupportedModel

    if Path(model or default_model_path()).is_dir():
        try:
            lazy = LazyEmbedder(model, cache_dir, backend, texts)
        except (UnsupportedModel, OSError, ValueError):
            pass  # its width is not in its configuration: the model itself will say
        else:
            if lazy.dimension:
                return lazy
    return open_embedder(model, cache_dir, backend, texts)
