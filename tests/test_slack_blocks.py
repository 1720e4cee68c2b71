"""The Block Kit renderer: what people see, and never a message Slack would reject."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.chat.asked import Asked
from bot.slack.blocks import SHOW_SQL, answer_blocks, cut
from knowledge.answer import Answer, MetricResult, MetricRow, Period, Source, Target

ASKED = Asked(via="ask", text="question")


def rendered(blocks) -> list[dict]:
    """The JSON Slack receives; slack_sdk validates every length limit while building it."""
    return [b.to_dict() for b in blocks]


def section_texts(dicts: list[dict]) -> list[str]:
    return [d["text"]["text"] for d in dicts if d["type"] == "section"]


def assert_within_limits(dicts: list[dict]) -> None:
    assert len(dicts) <= 50
    assert all(len(t) <= 3000 for t in section_texts(dicts))


def test_every_governed_document_renders_within_slacks_limits(kb):
    glossary = kb.glossary
    for doc in [*glossary.terms.values(), *glossary.guides.values()]:
        sections = [None, *(s.title for s in getattr(doc, "sections", ()))]
        for section in sections:
            dicts = rendered(answer_blocks(kb.render(doc, section=section), ASKED,
                                           shareable=True))
            assert_within_limits(dicts)


def test_definition_shows_the_governed_text_verbatim_with_its_provenance(kb):
    answer = kb.define("mql")
    dicts = rendered(answer_blocks(answer, ASKED))
    assert answer.definition in section_texts(dicts)
    shown = json.dumps(dicts)
    for expected in ("Owner:", "Status:* approved", "Version:* 3.0", "Updated:* 2026-09-15",
                     "glossary_docs/terms/mql.md", "Helpful", "Not helpful"):
        assert expected in shown
    assert "Share in channel" not in shown  # only ephemeral replies offer to share


def test_deprecated_term_says_so_and_offers_its_replacement(kb):
    shown = json.dumps(rendered(answer_blocks(kb.define("marketing sourced revenue"), ASKED)))
    assert "Deprecated" in shown
    assert "Use Marketing-Originated Revenue instead" in shown


def test_a_long_body_is_cut_at_a_sentence_with_a_link_to_the_full_text():
    sentence = "Every stage has exit criteria that the owner checks before moving on. "
    answer = Answer(kind="guide", id="g", name="A very long guide", definition=sentence * 80,
                    source=Source(path="glossary_docs/guides/g.md",
                                  url="https://docs.example.com/g.md"))
    [body] = [t for t in section_texts(rendered(answer_blocks(answer, ASKED)))
              if "exit criteria" in t]
    assert len(body) <= 3000
    assert body.endswith("… <https://docs.example.com/g.md|Read the full text>")
    assert body.split("…")[0].endswith("moving on.")


def test_cut_keeps_short_text_and_falls_back_to_a_word_boundary():
    assert cut("Short.", 100) == "Short."
    cut_text = cut("word " * 1000, 200)
    assert len(cut_text) <= 200 and "wor…" not in cut_text


def test_metric_answer_shows_value_period_target_table_and_show_sql():
    rows = tuple(MetricRow(dimensions={"segment": s}, value=v, formatted=f"{v:.1f}x")
                 for s, v in [("Enterprise", 3.4), ("Mid-Market", 2.1), ("SMB", 1.2)])
    result = MetricResult(
        metric="pipeline_coverage", name="Pipeline Coverage", value=2.6, formatted="2.6x",
        format="multiple", period=Period(start=dt.date(2026, 7, 1), end=dt.date(2026, 10, 1),
                                         label="Q3 2026"),
        dimensions=("segment",), rows=rows,
        target=Target(value=3.0, direction="at_least", formatted="3.0x", met=False),
        sql="SELECT 1")
    answer = Answer(kind="metric", name="Pipeline Coverage", result=result, owner="Sales Ops",
                    definition="Open pipeline divided by remaining quota.")
    dicts = rendered(answer_blocks(answer, Asked(via="metric", text="pipeline coverage")))
    shown = json.dumps(dicts)
    assert "*2.6x*" in shown and "Q3 2026" in shown and "Target at least 3.0x" in shown
    assert "off target" in shown
    table = next(t for t in section_texts(dicts) if t.startswith("```"))
    assert "segment" in table and "Enterprise  3.4x" in table
    assert SHOW_SQL in shown


@pytest.mark.parametrize("rows", [500])
def test_a_huge_breakdown_is_shortened_not_rejected(rows):
    result = MetricResult(
        metric="bookings", name="Bookings", value=1.0, formatted="$1", format="currency",
        dimensions=("account",), sql="SELECT 1",
        rows=tuple(MetricRow(dimensions={"account": f"Account number {i:05d}"}, value=i,
                             formatted=f"${i:,}") for i in range(rows)))
    dicts = rendered(answer_blocks(Answer(kind="metric", result=result), ASKED))
    assert_within_limits(dicts)
    assert "more rows" in json.dumps(dicts)


def test_no_answer_offers_at_most_three_did_you_mean_buttons(kb):
    answer = kb.ask("how do i reset my vpn password")
    assert answer.kind == "no_answer"
    dicts = rendered(answer_blocks(answer, ASKED))
    buttons = [e for d in dicts if d.get("block_id") == "did_you_mean" for e in d["elements"]]
    assert 1 <= len(buttons) <= 3
    assert [b["value"] for b in buttons] == [s.id for s in answer.suggestions]
