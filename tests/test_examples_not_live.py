"""Example figures in the glossary illustrate a formula: they name no real period, so they cannot
contradict the warehouse, and every surface shows them as examples, never as live numbers."""

from __future__ import annotations

import json

from rich.console import Console

from bot.chat.asked import Asked
from bot.render_text import render_answer
from bot.slack.blocks import answer_blocks
from knowledge.answer import EXAMPLE_LABEL
from knowledge.loading import load_directory

from conftest import GLOSSARY

DATED = "In Q3 FY2026 ARR was 10,680,000."


def test_the_glossary_examples_name_no_real_period():
    loaded = load_directory(GLOSSARY)
    assert [str(issue) for issue in loaded.issues] == []
    assert sum("\n## Example\n" in f"\n{t.body}" for t in loaded.terms) >= 50


def test_a_dated_example_is_refused_with_file_line_and_field(docs):
    arr = docs / "terms" / "arr.md"
    arr.write_text(arr.read_text().replace("## Example\n\n", f"## Example\n\n{DATED}\n\n"))
    line = arr.read_text().splitlines().index(DATED) + 1
    [issue] = load_directory(docs).issues
    assert (issue.path, issue.line, issue.field) == ("glossary_docs/terms/arr.md", line, "Example")
    assert issue.message.startswith("'FY2026' ties the example to a real period")


def test_the_console_shows_an_example_as_not_a_live_number(kb):
    for term in kb.glossary.terms.values():
        answer = kb.render(term, section="Example")
        if answer.detail is None:
            continue
        console = Console(record=True, width=200)
        console.print(render_answer(answer))
        shown = console.export_text()
        assert f"{term.name} › {EXAMPLE_LABEL}" in shown, term.id
        assert shown.count(EXAMPLE_LABEL) == 2, term.id  # the title and the section's heading


def test_slack_shows_an_example_as_not_a_live_number(kb):
    answer = kb.render(kb.glossary.terms["arr"], section="Example")
    dicts = [b.to_dict() for b in answer_blocks(answer, Asked(via="ask", text="arr example"))]
    assert dicts[0]["text"]["text"] == f"Annual Recurring Revenue (ARR) › {EXAMPLE_LABEL}"
    [example] = [d["text"]["text"] for d in dicts if d["type"] == "section"
                 and d["text"]["text"].startswith(f"*{EXAMPLE_LABEL}*\n")]
    assert "890,000 x 12 = 10,680,000" in example
    assert "› Example*" not in json.dumps(dicts)
