"""Term questions as people ask them: two terms at once, the part of a term that answers, the
moment a record changes stage. Through the core, the `ssot` command and Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.evaluation import read_questions, run, score
from tests.conftest import AS_OF, ROOT
from tests.slack_requests import message_event
from tests.test_slack_app import running, texts  # noqa: F401  (the running Slack app fixture)

SSOT = str(Path(sys.executable).parent / "ssot")


def definition(kb, term_id: str) -> str:
    return kb.glossary.terms[term_id].definition


def section_text(kb, doc_id: str, title: str) -> str:
    from knowledge.loading import split_sections

    doc = kb.glossary.document(doc_id)
    sections = doc.sections if hasattr(doc, "sections") else split_sections(doc.body, 1)
    return next(s.text for s in sections if s.title == title)


@pytest.mark.parametrize("question", [
    "what's the difference between an MQL and an SQL?",
    "mql vs sql",
    "how is an SQL different from an MQL",
    "sql or mql?",
    "are mql and sql the same thing",
])
def test_two_terms_get_both_governed_definitions_verbatim(kb, question):
    answer = kb.ask(question)
    assert answer.kind == "comparison"
    assert {side.id for side in answer.compared} == {"mql", "sql"}
    for side in answer.compared:
        term = kb.glossary.terms[side.id]
        assert side.definition == term.definition
        assert (side.owner, side.version) == (str(term.owner), term.version)
        assert side.source.path.endswith(f"terms/{side.id}.md")


def test_lines_relating_two_terms_are_quoted_from_where_they_are_written(kb):
    answer = kb.ask("what's the difference between an SAL and an SQL")
    assert [side.id for side in answer.compared] == ["sal", "sql"]
    first = answer.relations[0]
    # The lifecycle guide's rule for the move from one to the other, whole, with its line.
    assert (first.name, first.section) == ("Lead lifecycle and stage-transition rules",
                                           "SAL to SQL transition")
    assert first.text == section_text(kb, "lead_lifecycle_rules", "SAL to SQL transition")
    assert first.source.path.endswith("lead_lifecycle_rules.md") and first.source.line
    files = {"Sales Accepted Lead (SAL)": "sal", "Sales Qualified Lead (SQL)": "sql"}
    for relation in answer.relations[1:]:
        body = (ROOT / "glossary_docs" / "terms" / f"{files[relation.name]}.md").read_text()
        assert relation.text in body
    assert any("reporting SALs as SQLs" in r.text for r in answer.relations)


def test_a_comparison_with_one_governed_term_says_which_one_is_not(kb):
    answer = kb.ask("what's the difference between a lead and a prospect?")
    assert answer.kind == "definition" and answer.id == "lead"
    assert answer.definition == definition(kb, "lead")
    assert "“prospect” is not a governed term" in answer.notice
    same = kb.ask("CLV or LTV?")
    assert same.id == "clv" and "two names for the same governed term" in same.notice
    neither = kb.ask("gross margin vs net margin")
    assert neither.kind == "no_answer"
    assert neither.message == "Neither “gross margin” nor “net margin” is a governed term."


def test_or_between_things_that_are_not_terms_is_not_a_comparison(kb):
    answer = kb.ask("is mql status mastered in the crm or in marketing automation")
    assert answer.kind != "comparison"


def test_the_section_that_answers_leads_under_the_governed_definition(kb):
    demo = kb.ask("is a demo request an MQL?")
    assert (demo.kind, demo.id, demo.section) == ("definition", "lead_scoring", "Criteria")
    assert demo.definition == definition(kb, "lead_scoring")  # still the governed headline
    assert demo.detail == section_text(kb, "lead_scoring", "Criteria")
    assert "demo or contact-sales request 50" in demo.detail
    example = kb.ask("give me an example of pipeline coverage")
    assert (example.id, example.section) == ("pipeline_coverage", "Example")
    plain = kb.ask("who owns the mql definition")
    assert plain.id == "mql" and plain.section is None  # nothing asked beyond the term


@pytest.mark.parametrize(("question", "term"), [
    ("when does a lead become an MQL", "mql"),
    ("when does an opp count as pipeline?", "pipeline"),
    ("what moves a deal to closed won", "closed_won"),
    ("at what point does an mql become an sal", "sal"),
])
def test_a_stage_change_reaches_the_criteria_that_define_it(kb, question, term):
    answer = kb.ask(question)
    assert (answer.id, answer.section) == (term, "Criteria")
    assert answer.detail == section_text(kb, term, "Criteria")


def test_moving_back_between_two_stages_is_the_guide_rule_between_them(kb):
    answer = kb.ask("can an sql go back to sal?")
    assert (answer.kind, answer.id, answer.section) == (
        "guide", "lead_lifecycle_rules", "SAL to SQL transition")


def test_eval_counts_a_pair_only_when_both_terms_and_a_section_only_when_quoted(kb, tmp_path):
    path = tmp_path / "q.jsonl"
    lines = [
        {"question": "mql vs sql", "expected": ["mql", "sql"], "both": True, "group": "new"},
        {"question": "mql vs sql", "expected": ["mql", "sal"], "both": True, "group": "new"},
        {"question": "is a demo request an MQL?", "expected": ["lead_scoring"],
         "sections": ["Criteria"], "group": "new"},
        {"question": "is a demo request an MQL?", "expected": ["lead_scoring"],
         "sections": ["Formula"], "group": "new"},
        {"question": "what is an mql", "expected": ["mql"]},
        {"question": "capex vs opex", "expected": []},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    report = score(run(kb, read_questions(path), "hybrid"), "hybrid", kb.threshold)
    assert report.by_group == {"core": (1.0, 1), "new": (0.5, 4)}
    assert report.accuracy == 3 / 5 and report.na_recall == 1.0
    assert sorted(got for _, _, got in report.misses) == ["lead_scoring › Criteria",
                                                          "mql + sql"]


@pytest.fixture(scope="module")
def cli_env(kb, shared_cache, warehouse_url) -> dict[str, str]:
    # `kb` has built the glossary's index in the shared cache, so no process embeds anything.
    return {**os.environ, "SSOT_CACHE_DIR": str(shared_cache), "COLUMNS": "200",
            "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat()}


def ssot(env, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([SSOT, *args], capture_output=True, env=env, cwd=ROOT, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result


def test_ssot_ask_compares_two_terms_and_quotes_the_section_that_answers(kb, cli_env):
    answer = json.loads(ssot(cli_env, "ask", "--json", "sal vs sql?").stdout)
    assert answer["kind"] == "comparison"
    assert [(s["id"], s["definition"]) for s in answer["compared"]] == [
        ("sal", definition(kb, "sal")), ("sql", definition(kb, "sql"))]
    shown = ssot(cli_env, "ask", "what's the difference between an SAL and an SQL").stdout
    text = shown.decode()
    for expected in ("Sales Accepted Lead (SAL) vs Sales Qualified Lead (SQL)",
                     "Owner: Sales Operations", "glossary_docs/terms/sal.md",
                     "glossary_docs/terms/sql.md", "How they relate", "SAL to SQL transition"):
        assert expected in text
    # Two columns side by side: each line carries the start of both definitions.
    assert any("A Sales Accepted Lead (SAL) is" in line and "A Sales Qualified Lead (SQL) is"
               in line for line in text.splitlines())
    section = ssot(cli_env, "ask", "is a demo request an MQL?").stdout.decode()
    assert "Lead Scoring › Criteria" in section
    assert "Engagement points, up to 60: demo or contact-sales request 50" in section


def test_ssot_eval_reports_each_group_beside_the_baselines(cli_env, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in [
        {"question": "what is an mql", "expected": ["mql"]},
        {"question": "mql vs sql", "expected": ["mql", "sql"], "both": True,
         "group": "how_people_ask"},
        {"question": "how do i book a meeting room", "expected": []},
    ]))
    text = ssot(cli_env, "eval", str(path)).stdout.decode()
    assert "top-1 accuracy in scope by group" in text
    rows = {cells[1].strip(): [c.strip() for c in cells[2:]]
            for cells in (line.split("│") for line in text.splitlines() if line.startswith("│ "))}
    assert rows["how_people_ask"][:2] == ["1", "1.000"]  # in scope, hybrid top-1
    assert rows["core"][:2] == ["1", "1.000"] and rows["all"][:2] == ["2", "1.000"]


def test_slack_shows_two_columns_and_the_section_that_answers(running):  # noqa: F811
    running.slack.event(message_event("what's the difference between an SAL and an SQL?",
                                      "1700009000.000100", channel="D0ALICE", channel_type="im"))
    [reply] = running.api.wait_for("chat.postMessage")
    posted = reply.value("blocks")
    assert posted[0]["text"]["text"] == "Sales Accepted Lead (SAL) vs Sales Qualified Lead (SQL)"
    columns = next(b["fields"] for b in posted if len(b.get("fields", [])) == 4)
    glossary = running_glossary()
    assert [f["text"] for f in columns[2:]] == [glossary["sal"], glossary["sql"]]
    assert all(f["type"] == "plain_text" for f in columns[2:])  # verbatim, nothing reformatted
    shown = texts(reply)
    assert "How they relate" in shown and "SAL to SQL transition" in shown
    assert "glossary_docs/terms/sal.md" in shown and "glossary_docs/terms/sql.md" in shown

    running.slack.event(message_event("is a demo request an MQL?", "1700009000.000200",
                                      channel="D0ALICE", channel_type="im"))
    section = running.api.wait_for("chat.postMessage", 2)[1]
    shown = texts(section)
    assert section.value("blocks")[0]["text"]["text"] == "Lead Scoring › Criteria"
    assert glossary["lead_scoring"] in shown
    assert "Engagement points, up to 60: demo or contact-sales request 50" in shown


def running_glossary() -> dict[str, str]:
    """The governed definitions as the files state them."""
    from knowledge.glossary import load_glossary
    from metrics.catalog import metric_ids

    terms = load_glossary(ROOT / "glossary_docs", metric_ids()).terms
    return {term_id: term.definition for term_id, term in terms.items()}
