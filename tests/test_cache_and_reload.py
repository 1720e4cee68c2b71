"""The embedding cache survives restarts, and edits re-embed only what changed."""

from __future__ import annotations

import bm25s
import numpy as np

from knowledge.chunking import chunk_glossary
from knowledge.lexical import tokenize
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids


def build(docs, embedder, cache):
    return KnowledgeBase(docs, embedder, cache, metric_ids=metric_ids)


def test_restart_loads_the_cache_instead_of_embedding(docs, embedder, tmp_path):
    cache = tmp_path / "cache"
    first = build(docs, embedder, cache)
    assert len(embedder.texts) == first.index.stats.chunks > 100
    embedder.texts.clear()
    second = build(docs, embedder, cache)
    assert embedder.texts == [] and second.index.stats.reused == second.index.stats.chunks
    assert second.ask("what is an sql?").id == "sql"


def test_one_changed_file_re_embeds_only_its_own_chunks(docs, embedder, tmp_path):
    cache = tmp_path / "cache"
    kb = build(docs, embedder, cache)
    arr = docs / "terms" / "arr.md"
    arr.write_text(arr.read_text().replace("## Example", "## Example\n\nAn added line."), "utf-8")
    embedder.texts.clear()
    result = kb.reload()
    assert result.accepted
    changed = [c.text for c in chunk_glossary(kb.glossary) if c.path.endswith("terms/arr.md")]
    assert embedder.texts and set(embedder.texts) <= set(changed)
    assert all("arr" in t.lower() or "recurring" in t.lower() for t in embedder.texts)
    # and a restart after the edit embeds nothing at all
    embedder.texts.clear()
    build(docs, embedder, cache)
    assert embedder.texts == []


def test_invalid_reload_keeps_serving_the_last_good_set(docs, embedder, tmp_path):
    kb = build(docs, embedder, tmp_path / "cache")
    mql = docs / "terms" / "mql.md"
    good = mql.read_text()
    mql.write_text(good.replace("status: approved", "status: maybe"), "utf-8")
    result = kb.reload()
    assert not result.accepted
    assert any("terms/mql.md" in str(i) and "status" in str(i) for i in result.issues)
    assert kb.ask("what is an MQL").id == "mql"  # still answering, from the old set
    mql.write_text(good.replace("MQLs are counted by", "Teams count MQLs by"), "utf-8")
    assert kb.reload().accepted
    assert kb.define("mql").definition == kb.glossary.terms["mql"].definition


def test_a_corrupt_cache_file_is_rebuilt_not_fatal(docs, embedder, tmp_path):
    cache = tmp_path / "cache"
    build(docs, embedder, cache)
    for path in cache.iterdir():
        path.write_bytes(b"garbage")
    embedder.texts.clear()
    kb = build(docs, embedder, cache)
    assert embedder.texts and kb.ask("what is an mql").id == "mql"


def test_a_reload_searches_exactly_as_a_fresh_start(docs, embedder, tmp_path):
    kb = build(docs, embedder, tmp_path / "cache")
    arr = docs / "terms" / "arr.md"
    original = arr.read_text()
    arr.write_text(original.replace("## Example", "## Example\n\nZebracorn renewals count."))
    assert kb.reload().accepted
    fresh = build(docs, embedder, tmp_path / "cache")
    for question in ("zebracorn", "annual recurring revenue", "who owns pipeline coverage"):
        assert kb.index.search_lexical(question, 10) == fresh.index.search_lexical(question, 10)
    [(top, _)] = kb.index.search_lexical("zebracorn", 1)
    assert kb.index.knows("zebracorn") and kb.index.chunks[top].doc_id == "arr"
    arr.write_text(original)
    assert kb.reload().accepted
    assert not kb.index.knows("zebracorn")  # a removed word leaves the vocabulary


def test_the_bm25_index_scores_as_bm25s_itself_does(kb):
    chunks = kb.index.chunks
    reference = bm25s.BM25()
    reference.index(tokenize([c.text for c in chunks]), show_progress=False)
    for question in ("pipeline coverage ratio", "who owns the mql definition", "churn formula"):
        words = tokenize([question])[0]
        assert np.array_equal(kb.index.lexical.get_scores(words), reference.get_scores(words))
