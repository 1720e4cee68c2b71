"""The `ssot` command as a user runs it: a real process, real files, real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AS_OF, ROOT, seed_onnx

SSOT = str(Path(sys.executable).parent / "ssot")


@pytest.fixture(scope="module")
def env(tmp_path_factory, warehouse_url, shared_cache) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("cli-cache")
    seed_onnx(shared_cache, cache)  # the export is tested in test_onnx_embedding.py
    return {**os.environ, "SSOT_CACHE_DIR": str(cache), "COLUMNS": "200",
            "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat()}


def ssot(env, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SSOT, *args], input=stdin, capture_output=True, env=env, cwd=ROOT,
                          timeout=300, check=False)


def test_index_then_ask_json(env):
    built = ssot(env, "index")
    assert built.returncode == 0, built.stderr
    assert b"chunks" in built.stdout and b"embedded" in built.stdout
    again = ssot(env, "index")
    assert b" 0 embedded" in again.stdout  # warm cache: nothing re-embedded
    answer = json.loads(ssot(env, "ask", "--json", "what's an MQL?").stdout)
    assert answer["kind"] == "definition" and answer["id"] == "mql"
    assert answer["owner"] and answer["version"] and answer["source"]["path"].endswith("mql.md")


def test_ask_reads_one_question_per_line_from_stdin(env):
    lines = [b"what is ARR", b"", b"\x00\x01\x02\xff\xfe binary", b"?!", b"x" * 10_240,
             b"where is the lunch menu"]
    result = ssot(env, "ask", "--json", "-", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(lines)
    assert answers[0]["id"] == "arr"
    assert "empty" in answers[1]["message"]
    assert "not readable" in answers[2]["message"]
    assert "no words" in answers[3]["message"]
    assert "characters long" in answers[4]["message"]
    assert answers[5]["kind"] == "no_answer"
    assert b"Traceback" not in result.stderr


def test_readable_answer_and_usage_errors(env):
    shown = ssot(env, "ask", "who owns win rate")
    assert shown.returncode == 0 and b"Win Rate" in shown.stdout and b"Owner" in shown.stdout
    empty = ssot(env, "ask", "   ")
    assert empty.returncode == 2 and b"empty" in empty.stderr and b"Traceback" not in empty.stderr
    missing = ssot(env, "ask")
    assert missing.returncode == 2
    stdin_text = ssot(env, "ask", "-")
    assert stdin_text.returncode == 2 and b"needs --json" in stdin_text.stderr


def test_define_glossary_and_validate(env, docs):
    assert b"Customer Lifetime Value" in ssot(env, "define", "ltv").stdout
    unknown = ssot(env, "define", "pipline covrage")
    assert unknown.returncode == 1 and b"Did you mean" in unknown.stderr
    listing = ssot(env, "glossary", "--domain", "attribution").stdout.decode()
    assert "first_touch_attribution" in listing and "mql " not in listing
    bad_domain = ssot(env, "glossary", "--domain", "astrology")
    assert bad_domain.returncode == 2 and b"lifecycle" in bad_domain.stderr
    assert ssot(env, "validate").returncode == 0
    mql = docs / "terms" / "mql.md"
    mql.write_text(mql.read_text().replace("status: approved", "status: yes"), "utf-8")
    broken = ssot(env, "validate", str(docs))
    assert broken.returncode == 1
    line = mql.read_text().splitlines().index("status: yes") + 1
    assert f"{docs.name}/terms/mql.md:{line}: status: Input should be".encode() in broken.stdout


def test_eval_prints_project_and_baselines(env, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "what is an mql", "expected": ["mql"]},
        {"question": "how do i book a meeting room", "expected": []},
    ]))
    result = ssot(env, "eval", str(questions))
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    for label in ("hybrid (project)", "bm25 only", "dense only", "top-1 acc", "p99 ms"):
        assert label in text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x"}\nnot json\n')
    broken = ssot(env, "eval", str(bad))
    assert broken.returncode == 2
    assert b"bad.jsonl:1: expected: Field required" in broken.stderr
    assert b"bad.jsonl:2: -: not JSON" in broken.stderr


def test_questions_without_an_answer_are_listed_for_the_owners(env, tmp_path):
    private = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    asked = ssot(private, "ask", "how do i reset my vpn password")
    assert asked.returncode == 0 and b"No answer" in asked.stdout
    gaps = ssot(private, "gaps")
    assert gaps.returncode == 0, gaps.stderr
    assert b"how do i reset my vpn password" in gaps.stdout
