"""Export a sentence-transformers model to ONNX once, and trust the file only once it is checked.

A file under SSOT_CACHE_DIR/onnx/ is named by a hash of the model folder, and a record beside
it says whether it passed the check (its vectors against sentence-transformers' on the
glossary's own chunks) or why it was refused. A checked file is used without importing torch;
one without a record is checked first; a refused one is not tried again for the same model.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge.embedding import SentenceTransformerEmbedder
from knowledge.onnx_embedding import OnnxEmbedder

MIN_COSINE = 0.9999
# Enough chunks to cover short headlines and the longest sections; the check runs once a model.
CHECK_TEXTS = 128
# Files above this size (the weights) are keyed by size and modification time, not content:
# hashing 90 MB would cost every start a tenth of a second.
CONTENT_HASH_LIMIT = 1 << 20
Reference = Callable[[], SentenceTransformerEmbedder]


class OnnxRefused(Exception):
    """The ONNX file could not be made, or its vectors are not the model's."""


def onnx_file(folder: Path, cache_dir: Path) -> Path:
    """Where the export of the model in `folder` lives."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0".encode())
        if stat.st_size <= CONTENT_HASH_LIMIT:
            digest.update(path.read_bytes())
        else:
            digest.update(str(stat.st_mtime_ns).encode())
    return cache_dir / "onnx" / f"{folder.name}-{digest.hexdigest()[:16]}.onnx"


def checked_file(folder: Path, cache_dir: Path) -> Path | None:
    """The ONNX file when it exists and passed its check; no torch needed to know."""
    path = onnx_file(folder, cache_dir)
    return path if _is_checked(path, _read_record(path)) else None


def prepare(folder: Path, cache_dir: Path, texts: Callable[[], Sequence[str]],
            reference: Reference) -> Path:
    """A checked ONNX file for `folder`, exported if need be; raises OnnxRefused saying why."""
    path = onnx_file(folder, cache_dir)
    record = _read_record(path)
    if _is_checked(path, record):
        return path
    if "refused" in record:
        raise OnnxRefused(f"{record['refused']} (earlier; delete {path.parent} to try again)")
    model = reference()
    if path.exists():
        lowest = _check_or_refuse(path, folder, model, texts)
        _write_record(path, {"checked": _stamp(path), "lowest_cosine": lowest})
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        export(model, Path(tmp))
        lowest = _check_or_refuse(Path(tmp), folder, model, texts, record_as=path)
        os.replace(tmp, path)
    except OnnxRefused:
        raise
    except Exception as exc:  # the exporter's errors come from torch, onnx and the model alike
        raise OnnxRefused(f"export failed: {type(exc).__name__}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _write_record(path, {"checked": _stamp(path), "lowest_cosine": lowest})
    return path


def export(model: SentenceTransformerEmbedder, target: Path) -> None:
    """The transformer's token vectors as an ONNX graph with dynamic batch and length axes."""
    import torch

    transformer = model.transformer.eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(transformer.forward).parameters:
        names.append("token_type_ids")

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "token_vectors"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's tracer warnings are about other models
        torch.onnx.export(TokenVectors(), tuple(sample for _ in names), str(target),
                          input_names=names, output_names=["token_vectors"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def check(path: Path, folder: Path, model: SentenceTransformerEmbedder,
          texts: Sequence[str]) -> float:
    """The lowest cosine between the ONNX file's vectors and sentence-transformers' for `texts`."""
    sample = _spread(texts)
    onnx = OnnxEmbedder(path, folder, model.model_id)
    if onnx.dimension != model.dimension:
        return -1.0
    ours = onnx.encode(sample)
    theirs = model.encode_float32(sample)
    return float(np.min(np.sum(ours * theirs, axis=1)))


def _check_or_refuse(path: Path, folder: Path, model, texts,
                     record_as: Path | None = None) -> float:
    lowest = check(path, folder, model, texts())
    if lowest < MIN_COSINE:
        reason = (f"its vectors differ from sentence-transformers' (lowest cosine {lowest:.6f}, "
                  f"needed {MIN_COSINE})")
        _write_record(record_as or path, {"refused": reason})
        raise OnnxRefused(reason)
    return lowest


def _spread(texts: Sequence[str]) -> list[str]:
    """Up to CHECK_TEXTS distinct texts from shortest to longest, evenly spaced."""
    unique = sorted(set(texts), key=len) or ["a"]
    if len(unique) <= CHECK_TEXTS:
        return unique
    step = (len(unique) - 1) / (CHECK_TEXTS - 1)
    return [unique[round(i * step)] for i in range(CHECK_TEXTS)]


def _is_checked(path: Path, record: dict) -> bool:
    stamp = _stamp(path)
    return stamp is not None and record.get("checked") == stamp


def _stamp(path: Path) -> list[int] | None:
    """What a record ties itself to: a file replaced or rewritten since is checked again."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(tmp, path.with_suffix(".json"))

