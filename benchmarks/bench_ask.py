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

from knowledge.chunking import chunk_glossary  # noqa: E402
from knowledge.embedders import open_embedder  # noqa: E402
from knowledge.embedding import SentenceTransformerEmbedder, default_model_path  # noqa: E402
from knowledge.glossary import load_glossary  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402
from metrics.catalog import metric_ids  # noqa: E402

# The model's arithmetic and this CPU's best float32 rate (see the README's "Measured").
FLOP_PER_TOKEN = 22e6
CPU_FLOPS = 125e9
SERVE_QUESTIONS = 1000
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


BARE = """
import sys, numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
options = ort.SessionOptions(); options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
tok = Tokenizer.from_file(sys.argv[2] + "/tokenizer.json"); tok.no_padding()
e = tok.encode("what is an MQL?")
ids = np.array([e.ids]); mask = np.array([e.attention_mask])
[out] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                           "token_type_ids": np.zeros_like(ids)})
v = (out * mask[..., None]).sum(1) / mask.sum(); v / np.linalg.norm(v)
"""


def bare_onnx(onnx_file: Path):
    """Encode with nothing but onnxruntime and tokenizers: the floor `ask` is compared with."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(f"{default_model_path()}/tokenizer.json")
    tok.no_padding()

    def encode(text: str):
        e = tok.encode(text)
        ids, mask = np.array([e.ids]), np.array([e.attention_mask])
        [out] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                   "token_type_ids": np.zeros_like(ids)})
        v = (out * mask[..., None]).sum(1) / mask.sum()
        return v / np.linalg.norm(v)

    return encode


def processes(cache: Path, onnx_file: Path) -> dict[str, float]:
    """p50 seconds of whole processes: `ssot ask`, a bare ONNX encode, `ssot define`."""
    env = {**os.environ, "SSOT_CACHE_DIR": str(cache)}
    ssot = str(Path(sys.executable).parent / "ssot")
    commands = {
        "ask": [ssot, "ask", "--json", "what is an MQL?"],
        "bare": [sys.executable, "-c", BARE, str(onnx_file), default_model_path()],
        "define": [ssot, "define", "mql"],
    }
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(5):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            runs[name].append(time.perf_counter() - start)
    return {name: p50(times) for name, times in runs.items()}


def serve_memory(cache: Path, qs: list[str]) -> tuple[float, float, float]:
    """Seconds to a healthy /healthz, and resident MB after start and after 1,000 questions."""
    import socket
    import urllib.request

    from tests.slack_requests import SlackSender
    from tests.slack_standin import SlackStandIn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = SlackStandIn().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(SSOT_CACHE_DIR=str(cache), SLACK_BOT_TOKEN="xoxb-bench",
               SLACK_SIGNING_SECRET="bench", SLACK_API_BASE_URL=api.api_url,
               PYTHONPATH=str(ROOT),
               # A fresh state store: a kept one has already claimed these event ids.
               DATABASE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='ssot-bench-')}/state.db")
    ssot = str(Path(sys.executable).parent / "ssot")
    start = time.perf_counter()
    server = subprocess.Popen([ssot, "serve", "--http", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        healthy = time.perf_counter() - start
        time.sleep(2)  # the start-up sync runs beside the server
        after_start = rss_mb(server.pid)
        slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", "bench")
        for n in range(SERVE_QUESTIONS):
            slack.event({"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
                         "ts": f"1700000000.{n:06d}", "text": f"<@UBOT> {qs[n % len(qs)]}"})
        api.wait_for("chat.postMessage", SERVE_QUESTIONS, timeout=600)
        return healthy, after_start, rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        api.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def encode_figures(kb: KnowledgeBase, reference, bare, qs: list[str]) -> dict[str, float]:
    """p50 ms of `ask`, sentence-transformers' encode and a bare ONNX encode, interleaved."""
    runs: dict[str, list[float]] = {"ask": [], "torch": [], "bare": []}
    for _ in range(3):
        runs["torch"] += timed(lambda q: reference.encode([q]), qs)
        runs["bare"] += timed(bare, qs)
        runs["ask"] += timed(kb.ask, qs)
    return {name: p50(times) for name, times in runs.items()}


def main() -> None:
    reference = SentenceTransformerEmbedder()
    qs = questions()
    docs = ROOT / "glossary_docs"

    def texts() -> list[str]:
        return [c.text for c in chunk_glossary(load_glossary(docs, metric_ids()))]

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        small = tmp_path / "small"
        start = time.perf_counter()
        model = open_embedder(None, small, "onnx", texts, reference=reference)
        print(f"ONNX export and check: {time.perf_counter() - start:.1f} s "
              f"({type(model).__name__})")
        onnx_file = next((small / "onnx").glob("*.onnx"))
        kb = KnowledgeBase(docs, model, small, metric_ids=metric_ids)
        for q in qs[:20]:
            kb.ask(q)
        bare = bare_onnx(onnx_file)
        f = encode_figures(kb, reference, bare, qs)
        print(f"sentence-transformers encode p50: {f['torch']:.2f} ms; bare onnxruntime encode "
              f"p50: {f['bare']:.2f} ms, over {len(qs)} questions")
        print(f"warm ask p50 (glossary, {kb.index.stats.chunks} chunks): {f['ask']:.2f} ms = "
              f"{f['ask'] / f['torch']:.2f}x sentence-transformers encode (target <= 0.5x), "
              f"{f['ask'] / f['bare']:.2f}x bare onnxruntime encode (target <= 1.3x)")

        p = processes(small, onnx_file)
        print(f"whole process `ssot ask` (warm cache): {p['ask']:.2f} s; bare onnxruntime "
              f"process: {p['bare']:.2f} s; ratio {p['ask'] / p['bare']:.2f}x (target <= 1.3x)")
        print(f"whole process `ssot define mql`: {p['define']:.2f} s (target <= 1.0 s)")
        healthy, started, answered = serve_memory(small, qs)
        print(f"ssot serve --http: healthy in {healthy:.2f} s (target <= 3 s); resident "
              f"{started:.0f} MB after start, {answered:.0f} MB after {SERVE_QUESTIONS:,} "
              "questions (target <= 350 MB)")

        big_docs = tmp_path / "big" / "glossary_docs"
        synthetic_corpus(big_docs)
        start = time.perf_counter()
        big = KnowledgeBase(big_docs, model, tmp_path / "big-cache", metric_ids=metric_ids)
        build = time.perf_counter() - start
        tokens = sum(len(model._tokenizer.encode(c.text).ids) for c in big.index.chunks)
        floor = tokens * FLOP_PER_TOKEN / CPU_FLOPS
        synthetic = big.index.stats.chunks - kb.index.stats.chunks
        print(f"index build, {big.index.stats.chunks} chunks ({synthetic} synthetic, "
              f"{tokens / 1e6:.2f} M tokens): {build:.1f} s = {build / floor:.2f}x the "
              f"arithmetic floor of {floor:.0f} s")
        for q in qs[:20]:
            big.ask(q)
        big_ask = p50(timed(big.ask, qs))
        print(f"warm ask p50 with {big.index.stats.chunks} chunks: {big_ask:.2f} ms "
              f"= {big_ask / f['torch']:.2f}x sentence-transformers encode")

        changed = big_docs / "guides" / "synthetic_0042.md"
        changed.write_text(changed.read_text().replace("## Procedure 42-3", "## Procedure 42-3b"))
        start = time.perf_counter()
        result = big.reload()
        reindex = time.perf_counter() - start
        print(f"re-index after one file changed: {reindex:.2f} s, "
              f"{big.index.stats.embedded} chunk(s) embedded, accepted={result.accepted} "
              "(target <= 2 s)")
        print(f"peak RSS, this process (both models + 20k-chunk index): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
