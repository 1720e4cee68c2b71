"""What sentence-transformers does around a model's transformer, read from its folder.

Apart from the embedder, so that a process that only needs a model's width (a start from the
cache) reads it without importing NumPy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# sentence-transformers concatenates the pooled vectors of every enabled mode in this order.
POOLING_MODES = ("cls_token", "max_tokens", "mean_tokens", "mean_sqrt_len_tokens")


class UnsupportedModel(ValueError):
    """The model's sentence-transformers configuration has a stage this embedder lacks."""


@dataclass(frozen=True)
class ModelLayout:
    """What sentence-transformers would do around the transformer, read from the model folder."""

    pooling: tuple[str, ...]
    dimension: int
    max_length: int
    lowercase: bool

    @classmethod
    def read(cls, folder: Path) -> ModelLayout:
        """The pooling, width and truncation `folder`'s configuration files ask for."""
        modules = _json(folder / "modules.json", [])
        kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
        extra = set(kinds) - {"Transformer", "Pooling", "Normalize"}
        if extra:
            raise UnsupportedModel(f"modules.json has {', '.join(sorted(extra))}")
        pooling = _json(folder / kinds.get("Pooling", "1_Pooling") / "config.json", {})
        hidden = int(_json(folder / "config.json", {}).get("hidden_size", 0))
        modes = tuple(m for m in POOLING_MODES if pooling.get(f"pooling_mode_{m}"))
        others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v
                  and k.removeprefix("pooling_mode_") not in POOLING_MODES]
        if others:
            raise UnsupportedModel(f"pooling {', '.join(others)}")
        modes = modes or ("mean_tokens",)  # what sentence-transformers picks without a config
        width = int(pooling.get("word_embedding_dimension") or hidden)
        bert = _json(folder / "sentence_bert_config.json", {})
        max_length = bert.get("max_seq_length") or \
            _json(folder / "tokenizer_config.json", {}).get("model_max_length") or 512
        return cls(modes, width * len(modes), int(min(max_length, 100_000)),
                   bool(bert.get("do_lower_case")))


def _json(path: Path, default):
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))
