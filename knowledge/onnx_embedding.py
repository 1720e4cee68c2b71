"""Sentence embeddings through ONNX Runtime: the model's own tokenizer, pooling and no torch."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedding import Progress
from knowledge.model_layout import ModelLayout

# Threads for one question. Measured on this 2-core machine (all-MiniLM-L6-v2, 300 questions
# of the eval set, p50): 5.7 ms on one thread, 5.7 to 11.1 ms on two, because the other core
# is rarely idle; and a server encodes several questions at once, one per request thread,
# which a second thread per question would only make contend for the same cores.
QUESTION_THREADS = 1


class OnnxEmbedder:
    """An exported model run by onnxruntime; vectors as sentence-transformers gives them."""

    # Smaller batches than sentence-transformers' 64: ONNX Runtime ran the 750 glossary chunks
    # (length-sorted, two threads) in 11.3 s in batches of 16 and 17.7 s in batches of 64.
    batch_size = 16
    # Below this many texts an encode is a question: one thread, see QUESTION_THREADS.
    bulk_min = 16

    def __init__(self, onnx_file: Path, model_folder: Path, model_id: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._ort = onnxruntime
        self._file = onnx_file
        self.layout = ModelLayout.read(model_folder)
        self.model_id = model_id
        self.dimension = self.layout.dimension
        self._tokenizer = Tokenizer.from_file(str(model_folder / "tokenizer.json"))
        # tokenizer.json may pin padding and a shorter truncation; sentence-transformers pads
        # to the longest text of a batch and truncates at the model's max_seq_length.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.layout.max_length)
        self._session = self._open(QUESTION_THREADS)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._bulk_lock = threading.Lock()

    def _open(self, threads: int):
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = self._ort.InferenceSession(str(self._file), options,
                                             providers=["CPUExecutionProvider"])
        _release_freed_memory()
        return session

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if len(texts) < self.bulk_min:
            return self._encode(self._session, texts, progress)
        # Index builds use every core: they have the machine to themselves and are bound by
        # arithmetic. The session is dropped afterwards so a server keeps one copy of weights.
        with self._bulk_lock:
            return self._encode(self._open(os.cpu_count() or 1), texts, progress)

    def _encode(self, session, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length: a batch is padded to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._batch(session, [texts[i] for i in rows])
            if progress:
                progress(len(rows))
        return out

    def _batch(self, session, texts: list[str]) -> np.ndarray:
        if self.layout.lowercase:
            texts = [t.lower() for t in texts]
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
            types[row, : len(e.ids)] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        [tokens] = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return normalise(pool(tokens, mask, self.layout.pooling))


def pool(tokens: np.ndarray, mask: np.ndarray, modes: Sequence[str]) -> np.ndarray:
    """Sentence vectors from token vectors, as sentence-transformers' Pooling module computes."""
    weights = mask[..., None].astype(np.float32)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    parts = []
    for mode in modes:
        if mode == "cls_token":
            parts.append(tokens[:, 0])
        elif mode == "max_tokens":
            parts.append(np.where(weights > 0, tokens, -1e9).max(axis=1))
        elif mode == "mean_tokens":
            parts.append((tokens * weights).sum(axis=1) / counts)
        else:  # mean_sqrt_len_tokens
            parts.append((tokens * weights).sum(axis=1) / np.sqrt(counts))
    return np.concatenate(parts, axis=1)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Unit length rows: every Embedder returns these, Normalize module or not."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _release_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc only; elsewhere nothing).

    Building a session parses the whole model file and frees the copy, but glibc keeps the
    pages: about 25 MB of a server's resident memory, measured after start, that nothing uses.
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).malloc_trim(0)  # the process's own symbols, libc's among them
