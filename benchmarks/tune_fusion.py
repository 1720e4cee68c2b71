"""Grid-search the fusion weights and threshold on half the evaluation set, report the other half.

Prints the best settings found on the even lines and how they do on the odd lines, so the
weights in `knowledge.retrieval.Weights` are chosen on data they are not then judged on.
Run: .venv/bin/python benchmarks/tune_fusion.py [tests/eval/questions.jsonl]
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from bot.factory import build_knowledge
from bot.settings import get_settings
from knowledge.evaluation import read_questions
from knowledge.retrieval import Weights

ROOT = Path(__file__).resolve().parent.parent


def signals(kb, questions, floor):
    rows = []
    retriever = kb._snapshot.retriever
    retriever.weights = Weights(alias_floor=floor)
    for item in questions:
        ranking = retriever.rank(item.question)
        rows.append((item.expected, ranking.exact, [
            (c.doc_id, c.dense, c.lexical, c.alias) for c in ranking.candidates]))
    return rows


def evaluate(rows, lexical, alias, alias_conf, threshold):
    hits = in_scope = abstained = right = out = 0
    for expected, exact, cands in rows:
        if exact:
            got = cands[0][0]
        else:
            scored = [(d + lexical * lx + alias * al, min(1.0, d + alias_conf * al), doc)
                      for doc, d, lx, al in cands]
            best = max(scored) if scored else (0, 0, None)
            got = best[2] if best[1] >= threshold else None
        ok = (got in expected) if expected else got is None
        abstained += got is None
        if expected:
            in_scope += 1
            hits += ok
        else:
            out += 1
            right += ok
    acc, p, r = hits / in_scope, right / max(abstained, 1), right / max(out, 1)
    return acc, p, r


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/eval/questions.jsonl"
    questions = read_questions(path)
    kb = build_knowledge(get_settings())
    results = []
    for floor in (0.0, 0.3, 0.5, 0.7):
        rows = signals(kb, questions, floor)
        dev, test = rows[0::2], rows[1::2]
        grid = itertools.product([0.0, 0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.6, 0.8],
                                 [0.3, 0.45, 0.6, 0.8], [x / 100 for x in range(25, 60)])
        for params in grid:
            acc, p, r = evaluate(dev, *params)
            results.append((min(acc, p, r) + acc, floor, params, dev, test, rows))
    results.sort(key=lambda r: r[0], reverse=True)
    print("floor (lexical alias alias_conf threshold) | dev acc P R | test acc P R | all")
    for _, floor, params, dev, test, rows in results[:12]:
        figures = [" ".join(f"{x:.3f}" for x in evaluate(part, *params))
                   for part in (dev, test, rows)]
        print(floor, params, "| {} | {} | {}".format(*figures))


if __name__ == "__main__":
    main()
