"""The ONNX Runtime embedder: exported once, checked against sentence-transformers, else unused."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np

from knowledge.embedders import open_embedder
from knowledge.embedding import SentenceTransformerEmbedder, default_model_path
from knowledge.evaluation import read_questions
from knowledge.onnx_embedding import OnnxEmbedder
from knowledge.onnx_export import MIN_COSINE, checked_file, onnx_file, prepare
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids
from tests.conftest import GLOSSARY, ROOT, glossary_texts, seed_onnx

MODEL = Path(default_model_path())
QUESTIONS = ["what is an MQL?", "how do we calculate pipeline coverage",
             "who approves a discount above 20%", "x" * 3000]


def test_the_export_gives_sentence_transformers_vectors(shared_cache, model):
    path = checked_file(MODEL, shared_cache)
    assert path is not None and path.stat().st_size > 1_000_000
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["lowest_cosine"] >= MIN_COSINE
    onnx = OnnxEmbedder(path, MODEL, model.model_id)
    ours, theirs = onnx.encode(QUESTIONS), model.encode_float32(QUESTIONS)
    assert ours.shape == theirs.shape == (len(QUESTIONS), 384)
    assert float(np.min(np.sum(ours * theirs, axis=1))) >= MIN_COSINE
    bulk = onnx.encode(QUESTIONS * 5)  # a bulk encode: another session, length-sorted batches
    assert np.allclose(bulk[: len(QUESTIONS)], ours, atol=1e-5)
    # Same vectors, so the embedding cache is shared: switching backends embeds nothing.
    assert onnx.model_id == model.model_id


def test_a_wrong_onnx_file_falls_back_with_one_logged_line(kb, model, tmp_path, caplog):
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(checked_file(MODEL, kb.cache_dir)))
    biggest = max(graph.graph.initializer, key=lambda t: np.prod(t.dims))
    shuffled = np.roll(numpy_helper.to_array(biggest), 1, axis=0)  # every token the wrong row
    biggest.CopyFrom(numpy_helper.from_array(shuffled, biggest.name))
    cache = tmp_path / "cache"
    wrong = onnx_file(MODEL, cache)
    wrong.parent.mkdir(parents=True)
    onnx.save(graph, str(wrong))

    with caplog.at_level(logging.WARNING):
        used = open_embedder(None, cache, "onnx", glossary_texts, reference=model)
        again = open_embedder(None, cache, "onnx", glossary_texts, reference=model)
    assert used is model and again is model
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("sentence-transformers instead of ONNX" in ln for ln in lines)
    assert "lowest cosine" in lines[0] and "earlier" in lines[1]  # checked once, not each start
    fallback = KnowledgeBase(GLOSSARY, used, kb.cache_dir, metric_ids=metric_ids)
    # Answers go on, from sentence-transformers.
    assert fallback.ask("who decides when a lead is ready for sales?").id == "mql"


def test_a_changed_model_folder_is_exported_again(shared_cache, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(MODEL, folder)  # same files, same times: the same export
    cache = tmp_path / "cache"
    seed_onnx(shared_cache, cache)
    before = checked_file(folder, cache)
    assert before is not None

    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    assert checked_file(folder, cache) is None
    changed = SentenceTransformerEmbedder(str(folder))
    after = prepare(folder, cache, glossary_texts, lambda: changed)
    assert after != before and after.exists() and before.exists()
    onnx = OnnxEmbedder(after, folder, changed.model_id)
    cls = onnx.encode(QUESTIONS)
    assert float(np.min(np.sum(cls * changed.encode_float32(QUESTIONS), axis=1))) >= MIN_COSINE
    mean = OnnxEmbedder(before, MODEL, changed.model_id).encode(QUESTIONS)
    assert float(np.max(np.sum(cls * mean, axis=1))) < 0.99  # the new pooling, really used


def test_the_eval_answers_every_question_as_sentence_transformers_does(kb, shared_cache,
                                                                       tmp_path):
    onnx = open_embedder(None, shared_cache, "onnx", glossary_texts)
    assert isinstance(onnx, OnnxEmbedder)
    # A fresh cache: the index too is built from ONNX vectors, not read back from torch's.
    cache = tmp_path / "cache"
    seed_onnx(shared_cache, cache)
    ours = KnowledgeBase(GLOSSARY, onnx, cache, metric_ids=metric_ids)
    assert ours.index.stats.embedded == kb.index.stats.chunks
    questions = read_questions(ROOT / "tests" / "eval" / "questions.jsonl")
    differ = [(q.question, a.id, b.id) for q in questions
              if (a := kb.ask(q.question)).id != (b := ours.ask(q.question)).id]
    assert differ == []
