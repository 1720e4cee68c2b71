"""Score retrieval on a labelled question file: the project's hybrid and single-signal baselines."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.answer import Answer
from knowledge.errors import ContentError
from knowledge.issues import Issue
from knowledge.retrieval import Mode
from knowledge.service import KnowledgeBase

L = TypeVar("L", bound=BaseModel)


class Labelled(BaseModel):
    """One evaluation question; `expected` empty means the right answer is no_answer."""

    model_config = ConfigDict(extra="forbid")

    question: str
    expected: list[str]
    category: str = "uncategorised"
    # Reported on its own beside the whole set (a set of questions added for one purpose).
    group: str = "core"
    # A two-term question: right only when the answer compares exactly the expected ids.
    both: bool = False
    # Right only when the answer quotes one of these sections (a term's Criteria, a guide step).
    sections: list[str] = []


@dataclass
class Outcome:
    question: Labelled
    top_id: str | None
    confidence: float
    millis: float
    # Every id the answer gives a definition of (two for a comparison), and the section quoted.
    ids: tuple[str, ...] = ()
    section: str | None = None


@dataclass
class Report:
    """The figures `ssot eval` prints for one retrieval mode."""

    mode: str
    threshold: float
    accuracy: float
    na_precision: float
    na_recall: float
    p50_ms: float
    p99_ms: float
    by_category: dict[str, float] = field(default_factory=dict)
    # Top-1 accuracy in scope of each group, and how many in-scope questions it has.
    by_group: dict[str, tuple[float, int]] = field(default_factory=dict)
    misses: list[tuple[str, list[str], str | None]] = field(default_factory=list)


def read_questions(path: Path) -> list[Labelled]:
    """Parse a JSONL file; raises ContentError listing every bad line."""
    return read_labelled(path, Labelled)


def read_labelled(path: Path, model: type[L]) -> list[L]:
    """One `model` a line of a JSONL file; raises ContentError listing every bad line."""
    items, issues = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(model.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            issues.append(Issue(path=str(path), line=number, field="-", message=f"not JSON: {exc}"))
        except ValidationError as exc:
            for err in exc.errors():
                name = ".".join(map(str, err["loc"])) or "-"
                issues.append(Issue(path=str(path), line=number, field=name, message=err["msg"]))
    if issues:
        raise ContentError(issues)
    return items


def run(kb: KnowledgeBase, questions: list[Labelled], mode: Mode) -> list[Outcome]:
    outcomes = []
    kb.ask(questions[0].question, mode)  # warm up: first call pays one-off allocation costs
    for item in questions:
        start = time.perf_counter()
        answer = kb.ask(item.question, mode)
        millis = (time.perf_counter() - start) * 1000
        outcomes.append(Outcome(item, _top_id(answer), answer.score, millis,
                                tuple(a.id for a in answer.compared) or (answer.id,),
                                answer.section))
    return outcomes


def score(outcomes: list[Outcome], mode: str, threshold: float) -> Report:
    """Top-1 accuracy in scope and no_answer precision/recall at `threshold`."""
    hits, in_scope, abstained, right_abstain, out_scope = 0, 0, 0, 0, 0
    cat_total: dict[str, int] = defaultdict(int)
    cat_hits: dict[str, int] = defaultdict(int)
    group_total: dict[str, int] = defaultdict(int)
    group_hits: dict[str, int] = defaultdict(int)
    misses = []
    for o in outcomes:
        answered = o.top_id if o.confidence >= threshold else None
        expected = o.question.expected
        ok = _right(o, answered) if expected else answered is None
        cat_total[o.question.category] += 1
        cat_hits[o.question.category] += ok
        abstained += answered is None
        if expected:
            in_scope += 1
            hits += ok
            group_total[o.question.group] += 1
            group_hits[o.question.group] += ok
        else:
            out_scope += 1
            right_abstain += ok
        if not ok:
            misses.append((o.question.question, expected, _shown(o, answered)))
    millis = np.array([o.millis for o in outcomes])
    return Report(
        mode=mode, threshold=threshold, accuracy=_ratio(hits, in_scope),
        na_precision=_ratio(right_abstain, abstained), na_recall=_ratio(right_abstain, out_scope),
        p50_ms=float(np.percentile(millis, 50)), p99_ms=float(np.percentile(millis, 99)),
        by_category={c: _ratio(cat_hits[c], n) for c, n in sorted(cat_total.items())},
        by_group={g: (_ratio(group_hits[g], n), n) for g, n in sorted(group_total.items())},
        misses=misses,
    )


def best_threshold(outcomes: list[Outcome], mode: str) -> Report:
    """A baseline at its own best abstention threshold, so the comparison flatters it."""
    candidates = sorted({round(o.confidence, 4) for o in outcomes} | {0.0})
    reports = [score(outcomes, mode, t) for t in candidates]
    return max(reports, key=lambda r: r.accuracy + _f1(r.na_precision, r.na_recall))


def _right(o: Outcome, answered: str | None) -> bool:
    """The answer names the expected term (both, for a two-term question) and section."""
    label = o.question
    if answered is None:
        return False
    if label.both:
        return len(o.ids) == 2 and set(o.ids) == set(label.expected)
    return answered in label.expected and (not label.sections or o.section in label.sections)


def _shown(o: Outcome, answered: str | None) -> str | None:
    """What the answer gave, as a miss line shows it: `a + b`, or `id › section`."""
    if answered is None:
        return None
    if len(o.ids) == 2:
        return " + ".join(o.ids)
    return f"{answered} › {o.section}" if o.section else answered


def _top_id(answer: Answer) -> str | None:
    if answer.kind != "no_answer":
        return answer.id
    return answer.suggestions[0].id if answer.suggestions else None


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0
