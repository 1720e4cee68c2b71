"""Embeddings on disk keyed by model and chunk text: restarts and edits embed only what changed."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
# What reading a damaged .npz raises: empty (EOFError), cut short or overwritten (BadZipFile,
# ValueError from an array header), unreadable (OSError), saved without our arrays (KeyError),
# or a bare .npy in its place (TypeError: an array is no archive to open).
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile)


def discard(path: Path, problem: str) -> None:
    """Say once which cache file is unusable and remove it; the caller builds it again."""
    log.warning("cache file %s is unusable (%s): discarding it and rebuilding", path, problem)
    # Removed now, so an interrupted rebuild does not meet the same file at the next start.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


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
        """Load the file; an unreadable one is discarded and rebuilt, never fatal."""
        try:
            with np.load(self.path) as data:
                keys, matrix = data["keys"], data["vectors"]
        except _UNREADABLE as exc:
            return self._discard(f"{type(exc).__name__}: {exc}")
        if keys.ndim != 1 or matrix.ndim != 2 or matrix.shape != (len(keys), self.dimension):
            return self._discard(f"keys of shape {keys.shape} and vectors of shape "
                                 f"{matrix.shape}, expected dimension {self.dimension}")
        self._vectors = {str(k): v for k, v in zip(keys, matrix, strict=True)}

    def _discard(self, problem: str) -> None:
        discard(self.path, problem)
        self._dirty = True  # written again at the next save, even if nothing is embedded
