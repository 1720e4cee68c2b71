"""Index builds embed fast and in bulk, yet give the vectors a question is compared with."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embedding import native_bfloat16

TEXTS = [
    "MQL",
    "Pipeline coverage. Also called: coverage ratio. Open pipeline for a period divided by the "
    "quota for the same period.",
    "Lead hand-off SLA: sales accepts or rejects every MQL within 24 business hours of routing, "
    "and the clock pauses outside the owner's working hours.",
    "ARR",
    "Closed lost: the deal ended without a signed order form; record the loss reason.",
] * 8  # 40 texts: a bulk encode, mixed lengths, so batching reorders them


def test_bulk_encoding_keeps_each_vector_with_its_text(model):
    bulk = model.encode(TEXTS)
    for i in (0, 1, 2, 3, 4, 39):
        alone = model.encode([TEXTS[i]])[0]
        assert float(bulk[i] @ alone) > 0.999, TEXTS[i]
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-3)


@pytest.mark.skipif(not native_bfloat16(), reason="this CPU has no native bfloat16 matrix unit")
def test_bfloat16_index_vectors_rank_like_float32_ones(model):
    fast = model.encode(TEXTS)
    model.bulk_bfloat16 = False
    try:
        exact = model.encode(TEXTS)
    finally:
        model.bulk_bfloat16 = True
    assert model.bulk_bfloat16 and float(np.min(np.sum(fast * exact, axis=1))) > 0.999
    question = model.encode(["how many hours does sales have to accept an mql"])[0]
    assert int(np.argmax(fast @ question)) == int(np.argmax(exact @ question)) == 2


def test_questions_asked_from_many_threads_each_get_their_own_vector(model):
    from concurrent.futures import ThreadPoolExecutor

    questions = TEXTS[:5] * 4
    alone = [model.encode([q])[0] for q in questions]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: model.encode([q])[0], questions))
    for q, a, b in zip(questions, alone, together, strict=True):
        assert float(a @ b) > 0.9999, q
