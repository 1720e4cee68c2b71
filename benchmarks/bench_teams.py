"""Measure the Teams app as the Bot Connector sees it: one `ssot serve --http` on loopback.

1. HTTP latency of 200 message activities (personal-chat questions) sent at the same moment,
   with TEAMS_DEV=1 (no token to check): every one must get 200 (target: all within 3 s,
   p99 <= 300 ms), and every reply must reach the Bot Connector stand-in.
2. Time from a personal-chat question to its reply reaching the stand-in, as a ratio to the
   bare ask of the same question in this run (target <= 1.5x): `Services.ask`, the whole core
   the Teams app calls (glossary, metric reading, the value beside a definition), called as the
   app calls it (no SQL text) with the same ONNX embedder and the values beside definitions
   kept warm as the server keeps them; `KnowledgeBase.ask` (retrieval alone) is printed beside.

Run: .venv/bin/python benchmarks/bench_teams.py
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.harness import cpu_seconds, free_port, pct, send_at  # noqa: E402
from tests.teams_requests import personal  # noqa: E402
from tests.teams_standin import TeamsStandIn  # noqa: E402

CONCURRENT = 200
CLIENT_PROCESSES = 2
QUESTIONS = 60




def questions() -> list[str]:
    path = ROOT / "tests" / "eval" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("expected")][:QUESTIONS]






def start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.update({"TEAMS_DEV": "1", "DATABASE_URL": f"sqlite:///{workdir / 's.db'}",
                "SSOT_SYNC_INTERVAL_S": "3600", "PYTHONPATH": str(ROOT)})
    ssot = str(Path(sys.executable).parent / "ssot")
    log = open(workdir / "serve.log", "w")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen([ssot, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {(workdir / 'serve.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.2)
    sys.exit("server did not become healthy in 600 s")


def activity(api: TeamsStandIn, n: int, text: str, chat: str = "a:burst-") -> dict:
    """A question in its own personal chat, so every reply can be told apart."""
    body = personal(api, text, str(1_800_000_000_000 + n))
    body["conversation"] = {**body["conversation"], "id": f"{chat}{n}"}
    return body


def burst(base: str, api: TeamsStandIn) -> tuple[list[float], float]:
    """HTTP latency (ms) of CONCURRENT message activities released at the same instant."""
    per = CONCURRENT // CLIENT_PROCESSES
    terms = ["what is an MQL?", "define sal", "what does ARR mean", "pipeline"]
    start_at = time.time() + 2.0
    jobs = [(base, [json.dumps(activity(api, p * per + i, terms[i % 4]))
                    for i in range(per)], start_at) for p in range(CLIENT_PROCESSES)]
    with multiprocessing.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
        results = pool.map(_send_batch, jobs)
    bad = [s for batch in results for s, _ in batch if s != 200]
    if bad:
        sys.exit(f"{len(bad)} activities were not answered with 200: {bad[:5]}")
    return [ms for batch in results for _, ms in batch], start_at


def _send_batch(job: tuple[str, list[str], float]) -> list[tuple[int, float]]:
    """Send one process's share of the burst at `start_at`; (status, ms) for each request."""
    base, bodies, start_at = job
    parsed = urllib.parse.urlsplit(base)
    requests = []
    for body in bodies:
        head = (f"POST /api/messages HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n"
                "Connection: close\r\n\r\n")
        requests.append(head.encode() + body.encode())

    return send_at(base, requests, start_at)


def replies_to(api: TeamsStandIn, prefix: str) -> int:
    return sum(1 for c in api.calls_to("send")
               if (c.conversation_id or "").startswith(prefix) and c.status == 200)


def paired_latencies(base: str, api: TeamsStandIn, services, qs: list[str]
                     ) -> tuple[list[float], list[float], list[float]]:
    """For each question: bare `ask` in this process, then a personal message until its
    reply reaches the stand-in. Taken in turns, so a noisy neighbour slows both alike."""
    import httpx

    asks, retrievals, messages = [], [], []
    worker = ThreadPoolExecutor(1)
    client = httpx.Client(base_url=base, timeout=30)

    def timed(ask, question: str) -> float:
        began = time.perf_counter()
        ask(question)
        return (time.perf_counter() - began) * 1000

    def ask(question: str) -> None:  # as the Teams app asks: the SQL is shown only on request
        services.ask(question, with_sql=False)

    for n, question in enumerate(qs):
        asks.append(worker.submit(timed, ask, question).result())
        retrievals.append(worker.submit(timed, services.knowledge.ask, question).result())
        # Composed before the clock starts: the sender's own work is not the bot's.
        body = json.dumps(activity(api, 10_000 + n, question, "a:paired-")).encode()
        before = len(api.calls_to("send"))
        began = time.monotonic()
        client.post("/api/messages", content=body, headers={"content-type": "application/json"})
        sent = api.wait_for("send", before + 1)[before]
        messages.append((sent.at - began) * 1000)
    client.close()
    return asks, retrievals, messages


def core():
    from bot.factory import build_services
    from bot.settings import Settings

    settings = Settings()
    services = build_services(settings, load_model=True)
    if services.current_values is not None:  # warm as in the server, which keeps them so
        services.current_values.keep_warm(settings.current_value_refresh_s)
    return services


def main() -> None:
    qs = questions()
    services = core()
    api = TeamsStandIn().start()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(Path(tmp))
        try:
            paired_latencies(base, api, services, qs[:10])  # warm up: lazy imports, threads
            cpu_before = cpu_seconds(proc.pid)
            took, start_at = burst(base, api)
            while replies_to(api, "a:burst-") < CONCURRENT and time.time() - start_at < 120:
                time.sleep(0.01)
            done = replies_to(api, "a:burst-")
            all_answered = time.time() - start_at
            burst_cpu = cpu_seconds(proc.pid) - cpu_before
            asks, retrievals, messages = paired_latencies(base, api, services, qs)
            rss = int(Path(f"/proc/{proc.pid}/status").read_text().split("VmRSS:")[1]
                      .split()[0]) / 1024
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    api.stop()

    print(f"message activities, {CONCURRENT} concurrent: p50 {pct(took, .5):.1f} ms, "
          f"p99 {pct(took, .99):.1f} ms, max {max(took):.1f} ms "
          f"(target: all < 3000 ms, p99 <= 300 ms)")
    print(f"replies at the Bot Connector stand-in: {done}/{CONCURRENT}, last one "
          f"{all_answered:.1f} s after the burst; server CPU: {burst_cpu * 1000:.0f} ms "
          f"({burst_cpu * 1000 / CONCURRENT:.2f} ms a question)")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"server resident memory at the end: {rss:.0f} MB")
    m50, a50 = statistics.median(messages), statistics.median(asks)
    print(f"personal question -> reply at the stand-in: p50 {m50:.1f} ms, "
          f"p99 {pct(messages, .99):.1f} ms")
    print(f"bare Services.ask: p50 {a50:.1f} ms, p99 {pct(asks, .99):.1f} ms "
          f"(KnowledgeBase.ask alone: p50 {statistics.median(retrievals):.1f} ms)")
    print(f"ratio reply/ask (p50): {m50 / a50:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
