"""Embeddings on disk keyed by model and chunk text: restarts and edits embed only what changed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """A content-addressed store of vectors: sha256(text) → vector, one file per model."""

    def __init__(self, directory: Path, model_id: str, dimension: int) -> None:
        slug = hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self.path = directory / f"embeddings-{slug}.npz"
        self.dimension = dimension
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.exists():
            self._read()

    def __contains__(self, digest: str) -> bool:
        return digest in self._vectors

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, digests: list[str]) -> np.ndarray:
        """Vectors for `digests`, in order; every digest must be present."""
        if not digests:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[d] for d in digests])

    def put(self, digests: list[str], vectors: np.ndarray) -> None:
        for digest, vector in zip(digests, vectors, strict=True):
            self._vectors[digest] = vector
        self._dirty = self._dirty or bool(digests)

    def retain(self, digests: set[str]) -> None:
        """Forget vectors no current chunk uses, so the file does not grow forever."""
        stale = self._vectors.keys() - digests
        for digest in stale:
            del self._vectors[digest]
        self._dirty = self._dirty or bool(stale)

    def save(self) -> None:
        """Write atomically: a crash mid-write leaves the previous file intact."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype="U64")
        matrix = self.get(list(self._vectors))
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=keys, vectors=matrix)
        os.replace(tmp, self.path)
        self._dirty = False

    def _read(self) -> None:
        try:
            with np.load(self.path) as data:
                keys, matrix = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return  # an unreadable cache is rebuilt, never fatal
        if matrix.ndim == 2 and matrix.shape[1] == self.dimension:
            self._vectors = {str(k): v for k, v in zip(keys, matrix, strict=True)}
