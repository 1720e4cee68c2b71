"""`ssot eval` on labelled metric questions: each asked on its own day, as `ssot ask` does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.services import Services
from knowledge.errors import ContentError
from metrics.evaluation import is_metric_file, read_metric_questions, run, score

from conftest import ROOT

SSOT = str(Path(sys.executable).parent / "ssot")
LINES = [
    {"question": "how many SQLs did we get in november", "today": "2026-11-18",
     "metric": "sql_count", "refuse": False,
     "period": {"start": "2026-11-01", "end": "2026-12-01"}, "by": [], "where": {},
     "compare": None, "category": "period"},
    # asked in January, "november" is the one before
    {"question": "how many SQLs did we get in november", "today": "2027-01-10",
     "metric": "sql_count", "refuse": False,
     "period": {"start": "2026-11-01", "end": "2026-12-01"}, "by": [], "where": {},
     "compare": None, "category": "period"},
    {"question": "bookings in emea and apac by month vs last quarter", "today": "2026-11-18",
     "metric": "bookings", "refuse": False, "period": None, "by": ["month"],
     "where": {"region": ["APAC", "EMEA"]},
     "compare": {"start": "2026-07-01", "end": "2026-10-01"}, "category": "filter"},
    {"question": "win rate in germany", "today": "2026-11-18", "metric": None, "refuse": True,
     "period": None, "by": [], "where": {}, "compare": None, "category": "refusal"},
    {"question": "what is an MQL?", "today": "2026-11-18", "metric": None, "refuse": False,
     "period": None, "by": [], "where": {}, "compare": None, "category": "glossary"},
    # labelled wrongly on purpose: the bot reads "last quarter" as Q3
    {"question": "win rate last quarter", "today": "2026-11-18", "metric": "win_rate",
     "refuse": False, "period": {"start": "2026-10-01", "end": "2027-01-01"}, "by": [],
     "where": {}, "compare": None, "category": "period"},
]


def write_lines(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_every_question_is_scored_on_its_own_day_and_misses_are_listed(kb, metric_engine,
                                                                       tmp_path):
    labels = read_metric_questions(write_lines(tmp_path / "q.jsonl", LINES))
    before = metric_engine.calendar().today
    report = score(run(Services(kb, metric_engine), labels))
    assert metric_engine.calendar().today == before  # the engine's own today is back
    assert (report.total, report.exact) == (6, 5)
    assert (report.refusals, report.refused_without_number) == (1, 1)
    assert report.by_category == {"filter": (1, 1), "glossary": (1, 1), "period": (2, 3),
                                  "refusal": (1, 1)}
    [miss] = report.misses
    assert miss.label.question == "win rate last quarter"
    assert "2026-07-01..2026-10-01" in str(miss.got)


def test_a_refusal_fails_when_a_number_is_given(kb, metric_engine, tmp_path):
    number = dict(LINES[3], question="what's our win rate in emea")
    report = score(run(Services(kb, metric_engine),
                       read_metric_questions(write_lines(tmp_path / "q.jsonl", [number]))))
    assert report.refused_without_number == 0 and report.exact == 0


def test_bad_lines_are_named_by_line_and_field(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [LINES[0], {**LINES[0], "today": "someday"}])
    with pytest.raises(ContentError) as caught:
        read_metric_questions(path)
    assert [(i.line, i.field) for i in caught.value.issues] == [(2, "today")]
    assert is_metric_file(path)
    assert not is_metric_file(ROOT / "tests" / "eval" / "questions.jsonl")


def test_ssot_eval_detects_a_metric_file_and_prints_the_share_and_the_misses(
        tmp_path, warehouse_url, shared_cache):
    cache = tmp_path / "cache"
    shutil.copytree(shared_cache, cache)  # the index is built already: no embedding here
    env = {"PATH": "", "HOME": str(tmp_path), "COLUMNS": "200", "SSOT_CACHE_DIR": str(cache),
           "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": "2026-11-15"}
    path = write_lines(tmp_path / "q.jsonl", LINES)
    done = subprocess.run([SSOT, "eval", str(path), "--misses"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "6 metric questions: 5 answered exactly as labelled (83.3%)" in done.stdout
    assert "1 of 1 refusals gave no number" in done.stdout
    assert "MISS 'win rate last quarter'" in done.stdout
    assert "period 2026-10-01..2027-01-01" in done.stdout  # what was expected
