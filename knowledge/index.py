"""The search indexes over chunks: dense (exact inner product) and lexical (BM25)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from knowledge.cache import EmbeddingCache, discard
from knowledge.chunking import Chunk
from knowledge.dense import DenseIndex
from knowledge.embedding import Embedder
from knowledge.lexical import STEMMER, LexicalBuilder, tokenize


class IndexMemo:
    """What one build computed that the next can reuse: each chunk's BM25 tokens and vector.

    A reload after a one-file change then tokenizes and embeds that file's chunks only, and
    does not read the embedding cache back from disk.
    """

    def __init__(self) -> None:
        self.lexical = LexicalBuilder()
        self.vectors: EmbeddingCache | None = None


@dataclass
class BuildStats:
    """What an index build did; `embedded` counts chunks sent to the model."""

    chunks: int
    embedded: int
    reused: int


class SearchIndex:
    """Dense and lexical indexes over the same chunk list, positions aligned."""

    def __init__(self, chunks: list[Chunk], dense: DenseIndex, lexical: bm25s.BM25,
                 stats: BuildStats) -> None:
        self.chunks = chunks
        self.dense = dense
        self.lexical = lexical
        self.stats = stats
        self._positions: dict[str, list[int]] = {}
        for position, chunk in enumerate(chunks):
            self._positions.setdefault(chunk.doc_id, []).append(position)

    @classmethod
    def build(cls, chunks: list[Chunk], embedder: Embedder, cache_dir: Path | None,
              on_embed: Callable[[int, int], None] | None = None,
              memo: IndexMemo | None = None) -> SearchIndex:
        """Embed only chunks whose text the cache has not seen; `on_embed(done, total)`."""
        memo = memo or IndexMemo()
        digests = [c.digest for c in chunks]
        corpus = hashlib.sha256("\n".join(digests).encode()).hexdigest()[:24]
        dense, stats = _cached_dense(cache_dir, corpus, embedder, len(chunks))
        if dense is None:
            dense, stats = _build_dense(chunks, digests, embedder, cache_dir, corpus, on_embed,
                                        memo)
        return cls(chunks, dense, memo.lexical.build(digests, [c.text for c in chunks]), stats)

    def search_dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.dense.search(vector, k)

    def positions(self, doc_id: str) -> list[int]:
        """Chunk positions of one document."""
        return self._positions.get(doc_id, [])

    def vectors(self, positions: list[int]) -> np.ndarray:
        """Stored embeddings of the chunks at `positions`."""
        return self.dense.matrix[positions]

    def knows(self, word: str) -> bool:
        """Whether any chunk uses this word (compared by stem, as BM25 sees it)."""
        return STEMMER.stemWord(word.lower()) in self.lexical.vocab_dict

    def search_lexical(self, text: str, k: int) -> list[tuple[int, float]]:
        [words] = tokenize([text])
        if not words:
            return []
        # Scoring every chunk and taking the top k ourselves: bm25s's `retrieve` starts a
        # thread pool per call, which costs ten times the scoring for one question.
        scores = self.lexical.get_scores(words)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def _cached_dense(cache_dir: Path | None, corpus: str, embedder: Embedder, n: int):
    if cache_dir is None:
        return None, None
    path = _index_path(cache_dir, embedder, corpus)
    if not path.exists():
        return None, None
    try:
        index = DenseIndex.read(path)
    except ValueError as exc:  # empty, cut short or overwritten
        discard(path, str(exc))
        return None, None
    if index.ntotal != n or index.d != embedder.dimension:
        # Its name promises these chunks and this model: anything else is damage.
        discard(path, f"{index.ntotal} vectors of dimension {index.d}, expected {n} of "
                      f"dimension {embedder.dimension}")
        return None, None
    return index, BuildStats(chunks=n, embedded=0, reused=n)


def _build_dense(chunks, digests, embedder, cache_dir, corpus, on_embed, memo: IndexMemo):
    if cache_dir is not None and memo.vectors is None:
        memo.vectors = EmbeddingCache(cache_dir, embedder.model_id, embedder.dimension)
    cache = memo.vectors
    missing = sorted({d for d in digests if cache is None or d not in cache})
    texts = {d: c.text for d, c in zip(digests, chunks, strict=True)}
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        if on_embed:
            on_embed(done, len(missing))

    fresh = embedder.encode([texts[d] for d in missing], progress=progress)
    lookup = dict(zip(missing, fresh, strict=True))
    if cache is not None:
        cache.put(missing, fresh)
        cache.retain(set(digests))
        cache.save()
        lookup.update((d, v) for d, v in zip(digests, cache.get(digests), strict=True))
    matrix = np.stack([lookup[d] for d in digests]).astype(np.float32) if digests else \
        np.zeros((0, embedder.dimension), dtype=np.float32)
    index = DenseIndex(matrix)
    if cache_dir is not None:
        _write_index(index, _index_path(cache_dir, embedder, corpus))
    stats = BuildStats(chunks=len(chunks), embedded=len(missing), reused=len(chunks) - len(missing))
    return index, stats


def _index_path(cache_dir: Path, embedder: Embedder, corpus: str) -> Path:
    model = hashlib.sha256(embedder.model_id.encode()).hexdigest()[:16]
    return cache_dir / f"vectors-{model}-{corpus}.npy"


def _write_index(index: DenseIndex, path: Path) -> None:
    for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.npy"):
        old.unlink(missing_ok=True)  # one index per model: older corpora are never read again
    # Earlier releases kept a FAISS file per corpus; nothing reads it any more.
    for old in path.parent.glob("faiss-*.index"):
        old.unlink(missing_ok=True)
    index.write(path)
