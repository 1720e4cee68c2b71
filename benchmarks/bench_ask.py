"""Measure `ask` against the bare model, index builds, cold start and memory, in one run.

Prints one line per figure. Ratios compare two measurements taken in this same run on this
machine, so a noisy neighbour moves both. Run: .venv/bin/python benchmarks/bench_ask.py
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from knowledge.embedding import SentenceTransformerEmbedder, default_model_path  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402
from metrics.catalog import metric_ids  # noqa: E402

SYNTHETIC_FILES = 1000
SECTIONS_PER_FILE = 19  # plus the headline: 20 chunks a file, 20,000 in all
VOCAB = """account opportunity renewal expansion churn quota forecast segment region territory
contract invoice subscription usage ticket escalation owner steward approval review version
deprecated pipeline coverage velocity conversion attribution campaign touch webinar event
partner referral discount margin billing payment schedule milestone onboarding adoption health
score telemetry seat license tier upgrade downgrade cancellation notice period policy audit
""".split()


def p50(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def questions() -> list[str]:
    path = ROOT / "tests" / "eval" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows][:300]


def synthetic_corpus(target: Path) -> None:
    """Real glossary plus 1,000 guide files of random but well-formed GTM prose."""
    shutil.copytree(ROOT / "glossary_docs", target)
    rng = random.Random(7)
    for n in range(SYNTHETIC_FILES):
        sections = "\n\n".join(
            f"## Procedure {n}-{s}: {rng.choice(VOCAB)} {rng.choice(VOCAB)}\n\n"
            + " ".join(rng.choice(VOCAB) for _ in range(45)) + "."
            for s in range(SECTIONS_PER_FILE)
        )
        (target / "guides" / f"synthetic_{n:04d}.md").write_text(
            f"---\nid: synthetic_{n:04d}\ntitle: Synthetic operating procedure {n}\n"
            "owner: {team: Revenue Operations, role: Analyst}\nstatus: approved\n"
            'version: "1.0"\nupdated: 2026-01-01\nsummary: >-\n  '
            + " ".join(rng.choice(VOCAB) for _ in range(40)) + ".\n---\n\n" + sections + "\n"
        )


def cold_start(cache: Path) -> tuple[float, float]:
    """Seconds to first answer for `ssot ask`, and for importing and loading the bare model."""
    env = {**os.environ, "SSOT_CACHE_DIR": str(cache)}
    ssot = [str(Path(sys.executable).parent / "ssot"), "ask", "--json", "what is an mql"]
    bare = [sys.executable, "-c", "import sentence_transformers as s; "
            f"s.SentenceTransformer({default_model_path()!r}, device='cpu')"]
    runs: dict[str, list[float]] = {"ssot": [], "bare": []}
    for _ in range(3):
        for name, cmd in (("ssot", ssot), ("bare", bare)):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            runs[name].append(time.perf_counter() - start)
    return p50(runs["ssot"]), p50(runs["bare"])


def main() -> None:
    model = SentenceTransformerEmbedder()
    qs = questions()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        kb = KnowledgeBase(ROOT / "glossary_docs", model, tmp_path / "small", metric_ids=metric_ids)
        for q in qs[:20]:
            kb.ask(q)
        encode = p50(timed(lambda q: model.encode([q]), qs))
        ask = p50(timed(kb.ask, qs))
        print(f"bare model.encode p50: {encode:.2f} ms over {len(qs)} questions")
        print(f"warm ask p50 (glossary, {kb.index.stats.chunks} chunks): {ask:.2f} ms "
              f"= {ask / encode:.2f}x encode (target <= 1.5x)")

        big_docs = tmp_path / "big" / "glossary_docs"
        synthetic_corpus(big_docs)
        start = time.perf_counter()
        big = KnowledgeBase(big_docs, model, tmp_path / "big-cache", metric_ids=metric_ids)
        build = time.perf_counter() - start
        synthetic = big.index.stats.chunks - kb.index.stats.chunks
        print(f"index build, {big.index.stats.chunks} chunks ({synthetic} synthetic): "
              f"{build:.1f} s (target <= 60 s)")
        for q in qs[:20]:
            big.ask(q)
        big_ask = p50(timed(big.ask, qs))
        print(f"warm ask p50 with {big.index.stats.chunks} chunks: {big_ask:.2f} ms "
              f"= {big_ask / encode:.2f}x encode (target <= 2x)")

        changed = big_docs / "guides" / "synthetic_0042.md"
        changed.write_text(changed.read_text().replace("## Procedure 42-3", "## Procedure 42-3b"))
        start = time.perf_counter()
        result = big.reload()
        reindex = time.perf_counter() - start
        print(f"re-index after one file changed: {reindex:.2f} s, "
              f"{big.index.stats.embedded} chunk(s) embedded, accepted={result.accepted} "
              "(target <= 2 s)")
        print(f"peak RSS, this process (model + 20k-chunk index): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

        small_cache = tmp_path / "small"
        ssot_s, bare_s = cold_start(small_cache)
        print(f"cold start to first answer (warm cache): {ssot_s:.2f} s; import + model load: "
              f"{bare_s:.2f} s; ratio {ssot_s / bare_s:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
