"""Grid-search the fusion weights and threshold on half the evaluation set, report the other half.

Prints the best settings found on the even lines and how they do on the odd lines, so the
weights in `knowledge.retrieval.Weights` are chosen on data they are not then judged on.
Run: .venv/bin/python benchmarks/tune_fusion.py [tests/eval/questions.jsonl] [--current]
(--current: only the figures of the weights in use, dev | held-out | all).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from bot.factory import build_knowledge
from bot.settings import get_settings
from knowledge.evaluation import read_questions
from knowledge.retrieval import PROCEDURAL, Weights

ROOT = Path(__file__).resolve().parent.parent


def signals(kb, questions, floor):
    rows = []
    retriever = kb._snapshot.retriever
    retriever.weights = Weights(alias_floor=floor)
    for item in questions:
        ranking = retriever.rank(item.question)
        procedural = bool(PROCEDURAL.search(retriever.speller.correct(item.question)))
        rows.append((item.expected, ranking.exact, [
            (c.doc_id, c.dense, c.lexical, c.alias,
             procedural and c.doc_id in kb.glossary.guides) for c in ranking.candidates]))
    return rows


def evaluate(rows, lexical, alias, alias_conf, procedure, threshold):
    hits = in_scope = abstained = right = out = 0
    lift = Weights().procedure_confidence if procedure else 0.0
    for expected, exact, cands in rows:
        if exact:
            got = cands[0][0]
        else:
            scored = [(d + lexical * lx + alias * al + procedure * g,
                       min(1.0, d + alias_conf * al + lift * g), doc)
                      for doc, d, lx, al, g in cands]
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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = Path(args[0]) if args else ROOT / "tests/eval/questions.jsonl"
    questions = read_questions(path)
    kb = build_knowledge(get_settings())
    current = Weights()
    rows = signals(kb, questions, current.alias_floor)
    params = (current.lexical, current.alias, current.alias_confidence, current.procedure,
              kb.threshold)
    figures = [" ".join(f"{x:.3f}" for x in evaluate(part, *params))
               for part in (rows[0::2], rows[1::2], rows)]
    print("current:", current.alias_floor, params, "| {} | {} | {}".format(*figures))
    if "--current" in sys.argv:
        return
    results = []
    for floor in (0.0, 0.3, 0.5, 0.7):
        rows = signals(kb, questions, floor)
        dev, test = rows[0::2], rows[1::2]
        grid = itertools.product([0.0, 0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.6, 0.8],
                                 [0.3, 0.45, 0.6, 0.8], [0.0, 0.25],
                                 [x / 100 for x in range(35, 56)])
        for params in grid:
            acc, p, r = evaluate(dev, *params)
            results.append((min(acc, p, r) + acc, floor, params, dev, test, rows))
    results.sort(key=lambda r: r[0], reverse=True)
    print("floor (lexical alias alias_conf procedure threshold) | dev acc P R | test acc P R "
          "| all")
    for _, floor, params, dev, test, rows in results[:12]:
        figures = [" ".join(f"{x:.3f}" for x in evaluate(part, *params))
                   for part in (dev, test, rows)]
        print(floor, params, "| {} | {} | {}".format(*figures))


if __name__ == "__main__":
    main()
