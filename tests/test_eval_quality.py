"""The labelled questions in tests/eval are answered as well as the README says, and better
than either single-signal baseline: a retrieval change that loses accuracy fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.evaluation import best_threshold, read_questions, run, score

QUESTIONS = Path(__file__).parent / "eval" / "questions.jsonl"
# The goal is 0.97: measured 0.975 (README), so a retrieval change that loses three answers
# fails here.
ACCURACY_FLOOR = 0.97


@pytest.fixture(scope="module")
def reports(kb):
    questions = read_questions(QUESTIONS)
    project = score(run(kb, questions, "hybrid"), "hybrid", kb.threshold)
    baselines = [best_threshold(run(kb, questions, mode), mode) for mode in ("bm25", "dense")]
    return questions, project, baselines


def test_the_question_set_is_big_and_balanced(reports):
    questions, _, _ = reports
    out_of_scope = [q for q in questions if not q.expected]
    assert len(questions) - len(out_of_scope) >= 250 and len(out_of_scope) >= 50


def test_hybrid_beats_both_baselines(reports):
    _, project, baselines = reports
    for base in baselines:
        assert project.accuracy > base.accuracy, base.mode
        assert project.na_recall > base.na_recall or project.na_precision > base.na_precision


def test_hybrid_meets_its_floor(reports):
    _, project, _ = reports
    assert project.na_recall >= 0.90 and project.na_precision >= 0.90
    assert project.accuracy >= ACCURACY_FLOOR


# Two-term, yes/no, stage-change and section-level questions: measured 0.966 (146 in scope),
# so losing three of them fails here. A pair counts only with both terms, a section only quoted.
GROUP_FLOOR = 0.95


def test_questions_as_people_ask_them_meet_their_floor_above_both_baselines(reports):
    _, project, baselines = reports
    accuracy, in_scope = project.by_group["how_people_ask"]
    assert in_scope >= 120 and accuracy >= GROUP_FLOOR
    for base in baselines:
        assert accuracy > base.by_group["how_people_ask"][0], base.mode
