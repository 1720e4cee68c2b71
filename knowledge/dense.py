"""Exact inner-product search over the chunk vectors, kept as one float32 matrix on disk.

One question against 20,000 chunks is one matrix-vector product (about a millisecond here),
so an approximate index would buy nothing; the matrix is also what the vector cache holds,
and a file numpy reads back needs no native index library in the answering process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


class DenseIndex:
    """Unit vectors, one row per chunk; scores are inner products (cosines)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)

    @property
    def ntotal(self) -> int:
        return self.matrix.shape[0]

    @property
    def d(self) -> int:
        return self.matrix.shape[1]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k best rows, best first; equal scores in row order."""
        k = min(k, self.ntotal)
        if k <= 0:
            return []
        scores = self.matrix @ vector.reshape(-1).astype(np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top]

    def write(self, path: Path) -> None:
        """Written whole or not at all: a reader never sees half a matrix."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as out:
            np.save(out, self.matrix, allow_pickle=False)
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> DenseIndex:
        """Raises ValueError when the file is not a float32 matrix (cut short, overwritten)."""
        try:
            matrix = np.load(path, allow_pickle=False)
        except (OSError, EOFError) as exc:
            raise ValueError(str(exc) or "unreadable") from None
        if matrix.ndim != 2 or matrix.dtype != np.float32:
            raise ValueError(f"not a matrix of float32 vectors ({matrix.dtype}, "
                             f"{matrix.ndim} dimensions)")
        return cls(matrix)
