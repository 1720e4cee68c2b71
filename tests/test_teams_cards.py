"""The Adaptive Card renderer: what people see in Teams, and never a card Teams would refuse."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.chat.asked import Asked
from bot.teams.cards import (
    DID_YOU_MEAN,
    HELPFUL,
    MAX_CARD_BYTES,
    NOT_HELPFUL,
    RELATED,
    SHOW_SQL,
    Submitted,
    answer_card,
    card_bytes,
    card_data,
    message_card,
    parse_card_data,
    sql_card,
)
from bot.teams.markdown import from_markdown, from_mrkdwn
from knowledge.answer import (
    Answer,
    Comparison,
    MetricResult,
    MetricRow,
    Period,
    Relation,
    Source,
    Target,
)

ASKED = Asked(via="ask", text="question")
Q3 = Period(start=dt.date(2026, 7, 1), end=dt.date(2026, 10, 1), label="Q3 2026")


def shown(card) -> dict:
    """The card as Teams receives it."""
    return card.model_dump(by_alias=True, exclude_none=True)


def texts(node: object) -> list[str]:
    """Every piece of text a person sees, in order (button data excluded)."""
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") in ("TextBlock", "TextRun") else []
    if "type" not in node and {"title", "value"} <= node.keys():  # a fact
        found.append(f"{node['title']}: {node['value']}")
    if node.get("type") == "CodeBlock":
        found.append(node["codeSnippet"])
    return found + [t for key, value in node.items() if key not in ("data", "fallback")
                    for t in texts(value)]


def buttons(node: object) -> dict[str, Submitted]:
    """Each button's title and the click it sends back."""
    if isinstance(node, list):
        return {k: v for item in node for k, v in buttons(item).items()}
    if not isinstance(node, dict):
        return {}
    found = {node["title"]: parse_card_data(node["data"])} \
        if node.get("type") == "Action.Execute" else {}
    return found | {k: v for value in node.values() for k, v in buttons(value).items()}


def elements(node: object, kind: str) -> list[dict]:
    if isinstance(node, list):
        return [e for item in node for e in elements(item, kind)]
    if not isinstance(node, dict):
        return []
    return ([node] if node.get("type") == kind else []) + [
        e for value in node.values() for e in elements(value, kind)]


def test_every_governed_document_renders_within_teams_limits(kb):
    glossary = kb.glossary
    for doc in [*glossary.terms.values(), *glossary.guides.values()]:
        for section in [None, *(s.title for s in getattr(doc, "sections", ()))]:
            card = answer_card(kb.render(doc, section=section), ASKED)
            assert card_bytes(card) <= MAX_CARD_BYTES
            assert list(buttons(shown(card)))[-2:] == ["Helpful", "Not helpful"]


def test_definition_is_quoted_verbatim_with_its_provenance_and_feedback(kb):
    answer = kb.define("mql")
    card = shown(answer_card(answer, ASKED))
    seen = texts(card)
    assert answer.definition in seen  # one TextRun: never read as Markdown
    for fact in ("Owner: ", "Status: approved", "Version: 3.0", "Updated: 2026-09-15",
                 "Source: glossary_docs/terms/mql.md"):
        assert any(t.startswith(fact) for t in seen), fact
    clicks = buttons(card)
    asked = ASKED.model_copy(update={"answer_id": "mql"})
    assert clicks["Helpful"] == Submitted(HELPFUL, asked)
    assert clicks["Not helpful"] == Submitted(NOT_HELPFUL, asked)
    related = [c for c in clicks.values() if c.action == RELATED]
    assert related and all(c.asked.via == "define" for c in related)
    assert {c.asked.text for c in related} <= {*kb.glossary.terms, *kb.glossary.guides}
    assert card["fallbackText"].startswith(f"{answer.name}: ")


def test_markdown_characters_in_governed_text_are_shown_as_written():
    text = "ARR_net counts *committed* revenue; see [the policy] (not a link) & <this>."
    card = shown(answer_card(Answer(kind="definition", id="arr", name="ARR", definition=text),
                             ASKED))
    [run] = [r for r in elements(card, "TextRun") if r["text"] == text]
    assert run["type"] == "TextRun"


def test_deprecated_term_says_so_and_offers_its_replacement(kb):
    card = shown(answer_card(kb.define("marketing sourced revenue"), ASKED))
    assert any("Deprecated" in t and t.startswith("⚠️") for t in texts(card))
    replacement = [t for t in buttons(card) if t.startswith("Use ")]
    assert replacement == ["Use Marketing-Originated Revenue instead"]
    [action] = [a for a in elements(card, "Action.Execute") if a["title"] == replacement[0]]
    assert action["style"] == "positive"


def test_a_long_body_is_cut_at_a_sentence_with_a_link_to_the_full_text():
    sentence = "Every stage has exit criteria that the owner checks before moving on. "
    answer = Answer(kind="guide", id="g", name="A very long guide", definition=sentence * 200,
                    source=Source(path="glossary_docs/guides/g.md",
                                  url="https://docs.example.com/g.md"))
    [body] = [t for t in texts(shown(answer_card(answer, ASKED))) if "exit criteria" in t]
    assert body.endswith("moving on.… [Read the full text](https://docs.example.com/g.md)")
    assert len(body) < len(sentence * 200) / 2


def test_a_long_definition_is_cut_with_a_link_after_it():
    sentence = "A customer is counted once per billing account. "
    answer = Answer(kind="definition", id="c", name="Customer", definition=sentence * 300,
                    source=Source(path="glossary_docs/terms/c.md",
                                  url="https://docs.example.com/c.md"))
    seen = texts(shown(answer_card(answer, ASKED)))
    cut = next(t for t in seen if t.startswith("A customer"))
    assert cut.endswith("billing account.…")
    assert seen[seen.index(cut) + 1] == "[Read the full text](https://docs.example.com/c.md)"


def test_guide_markdown_becomes_card_markdown():
    answer = Answer(kind="guide", id="g", name="Lifecycle", section="Stages",
                    definition="## Stages\n* **MQL**: scored\n* see [the rules](https://x.io/r)")
    seen = texts(shown(answer_card(answer, ASKED)))
    assert seen[0] == "Lifecycle › Stages"
    assert "**Stages**\n- **MQL**: scored\n- see [the rules](https://x.io/r)" in seen


def metric_result(**changes) -> MetricResult:
    rows = tuple(MetricRow(dimensions={"segment": s}, value=v, formatted=f"{v:.1f}x")
                 for s, v in [("Enterprise", 3.4), ("Mid-Market", 2.1), ("SMB", 1.2)])
    values = dict(
        metric="pipeline_coverage", name="Pipeline Coverage", value=2.6, formatted="2.6x",
        format="multiple", period=Q3, dimensions=("segment",), rows=rows,
        target=Target(value=3.0, direction="at_least", formatted="3.0x", met=False),
        sql="SELECT segment, SUM(open) / SUM(quota) FROM pipeline GROUP BY segment",
        interpretation="Pipeline Coverage · Q3 2026 (Jul 1 – Sep 30) · by segment")
    return MetricResult(**{**values, **changes})


def test_metric_answer_shows_value_period_target_table_and_show_sql():
    result = metric_result(
        demo=True, filters={"region": ("EMEA", "APAC")},
        comparison=Comparison(period=Period(start=dt.date(2026, 4, 1), end=dt.date(2026, 7, 1),
                                            label="Q2 2026"),
                              value=2.4, formatted="2.4x", change=8.3, change_formatted="+8.3%"))
    answer = Answer(kind="metric", name="Pipeline Coverage", result=result, owner="Sales Ops",
                    definition="Open pipeline divided by remaining quota.")
    asked = Asked(via="metric", text="pipeline coverage")
    card = shown(answer_card(answer, asked))
    seen = texts(card)
    for line in ("Pipeline Coverage · Q3 2026 (Jul 1 – Sep 30) · by segment", "2.6x",
                 "Q3 2026 (2026-07-01 to 2026-10-01 exclusive)", "+8.3%",
                 "Where region in EMEA, APAC", "Target at least 3.0x: ❌ off target",
                 "(demo data, not your warehouse: set WAREHOUSE_URL)",
                 "Open pipeline divided by remaining quota.", "Owner: Sales Ops"):
        assert line in seen, line
    assert "vs Q2 2026 (2026-04-01 to 2026-07-01 exclusive): 2.4x, change " in seen
    [table] = elements(card, "Table")
    assert table["firstRowAsHeaders"] is True
    rows = [[texts(cell)[0] for cell in row["cells"]] for row in table["rows"]]
    assert rows == [["segment", "Pipeline Coverage"], ["Enterprise", "3.4x"],
                    ["Mid-Market", "2.1x"], ["SMB", "1.2x"]]
    assert buttons(card)["Show SQL"] == Submitted(SHOW_SQL, asked)
    assert card["fallbackText"] == f"{result.interpretation}: 2.6x"


def test_a_target_for_a_period_still_going_on_is_measured_against_the_pace():
    target = Target(value=3.0, direction="at_least", formatted="at least 3.0x", met=False,
                    expected_to_date=1.5, on_track=True)
    card = shown(answer_card(Answer(kind="metric", result=metric_result(target=target)), ASKED))
    assert "Target at least 3.0x: ✅ on track" in texts(card)


def test_a_huge_breakdown_is_shortened_not_refused():
    result = metric_result(dimensions=("account",), rows=tuple(
        MetricRow(dimensions={"account": f"Account number {i:05d}"}, value=i,
                  formatted=f"${i:,}") for i in range(500)))
    card = answer_card(Answer(kind="metric", result=result), ASKED)
    assert card_bytes(card) <= MAX_CARD_BYTES
    [table] = elements(shown(card), "Table")
    assert len(table["rows"]) == 41  # the header and 40 rows
    assert "… and 460 more rows" in texts(shown(card))


def test_a_failed_metric_request_says_why():
    answer = Answer(kind="metric", message="No governed metric is called bookingz.")
    card = shown(answer_card(answer, ASKED))
    assert texts(card) == ["No governed metric is called bookingz."]
    assert list(buttons(card)) == ["Helpful", "Not helpful"]


def test_comparison_shows_two_columns_and_the_lines_relating_them(kb):
    answer = kb.ask("what's the difference between an SAL and an SQL")
    card = shown(answer_card(answer, ASKED))
    [columns] = elements(card, "ColumnSet")
    sides = [texts(column) for column in columns["columns"]]
    assert [side[0] for side in sides] == [s.name for s in answer.compared]
    for side, compared in zip(sides, answer.compared, strict=True):
        assert compared.definition in side
        assert any(t.startswith("Owner: ") for t in side)
    assert "How they relate" in texts(card)
    assert "Lead lifecycle and stage-transition rules › SAL to SQL transition" in " ".join(
        texts(card))
    clicks = buttons(card)
    assert [clicks[s.name].asked.text for s in answer.compared] == ["sal", "sql"]


def test_no_answer_offers_at_most_three_did_you_mean_buttons(kb):
    answer = kb.ask("how do i reset my vpn password")
    assert answer.kind == "no_answer"
    card = shown(answer_card(answer, ASKED))
    assert "Did you mean:" in texts(card)
    offered = [c for c in buttons(card).values() if c.action == DID_YOU_MEAN]
    assert 1 <= len(offered) <= 3
    assert [c.asked for c in offered] == [Asked(via="define", text=s.id)
                                          for s in answer.suggestions]


def test_a_card_that_would_be_too_big_keeps_its_title_and_buttons():
    relation = Relation(text="A sentence that relates the two terms at some length. " * 80,
                        name="Guide", source=Source(path="g.md"))
    sides = tuple(Answer(kind="definition", id=i, name=i.upper(), definition="x") for i in "ab")
    answer = Answer(kind="comparison", name="A and B", compared=sides,
                    relations=(relation,) * 12)
    card = answer_card(answer, ASKED)
    assert card_bytes(card) <= MAX_CARD_BYTES
    seen = texts(shown(card))
    assert seen[0] == "A and B" and "…more than fits in one message." in seen
    assert list(buttons(shown(card)))[-2:] == ["Helpful", "Not helpful"]


def test_a_metric_too_wide_to_fit_still_offers_its_sql():
    dims = tuple(f"dimension_{i}" for i in range(6))
    rows = tuple(MetricRow(dimensions={d: f"{d} value {n} " + "x" * 100 for d in dims},
                           value=n, formatted=str(n)) for n in range(40))
    card = answer_card(Answer(kind="metric", result=metric_result(dimensions=dims, rows=rows)),
                       ASKED)
    assert card_bytes(card) <= MAX_CARD_BYTES
    seen = texts(shown(card))
    assert "2.6x" in seen and "…more than fits in one message." in seen
    assert list(buttons(shown(card))) == ["Show SQL", "Helpful", "Not helpful"]


@pytest.mark.parametrize("value", [
    card_data(HELPFUL, Asked(via="metric", text="bookings q3", answer_id="bookings")),
    json.dumps(card_data(SHOW_SQL, Asked(via="metric", text="bookings q3"))),
])
def test_card_data_round_trips(value):
    clicked = parse_card_data(value)
    assert clicked.asked.text == "bookings q3"
    assert clicked.action in (HELPFUL, SHOW_SQL)


@pytest.mark.parametrize("value", [
    None, "", "not json", [], {"action": "delete_everything", "asked": '{"via":"ask","text":"x"}'},
    {"action": HELPFUL}, {"action": HELPFUL, "asked": {"via": "ask", "text": "x"}},
    {"action": HELPFUL, "asked": '{"via":"shout","text":"x"}'},
])
def test_values_that_are_not_our_clicks_are_ignored(value):
    assert parse_card_data(value) is None


def test_a_long_question_still_fits_in_its_buttons():
    asked = Asked(via="ask", text="why " * 3000)
    clicked = parse_card_data(card_data(HELPFUL, asked))
    assert clicked.asked.text.startswith("why why") and len(clicked.asked.text) < 2000


def test_message_card_shows_mrkdwn_as_card_markdown_with_mentions_and_code():
    text = ("*Recent definition changes*\n• `mql` v3.0 by <@29:owner-1>: see "
            "<https://docs.example.com/mql.md|the diff>\n\n_Ask_ &lt;owners&gt;\n"
            "```SELECT 1\nFROM t WHERE a &lt; 2```")
    card = shown(message_card(text, names={"29:owner-1": "Ana Ruiz"}))
    assert texts(card) == [
        "**Recent definition changes**",
        "• `mql` v3.0 by <at>Ana Ruiz</at>: see [the diff](https://docs.example.com/mql.md)",
        "*Ask* <owners>", "SELECT 1\nFROM t WHERE a < 2"]
    [mention] = card["msteams"]["entities"]
    assert mention == {"type": "mention", "text": "<at>Ana Ruiz</at>",
                       "mentioned": {"id": "29:owner-1", "name": "Ana Ruiz"}}
    blocks = card["body"]
    assert blocks[2]["spacing"] == "Medium"  # the blank line before "Ask"


def test_sql_card_shows_the_sql_as_code():
    card = shown(sql_card(metric_result()))
    assert texts(card) == ["SQL for Pipeline Coverage", metric_result().sql]
    [code] = elements(card, "CodeBlock")
    assert code["language"] == "Sql"
    assert code["fallback"]["inlines"][0]["fontType"] == "Monospace"


@pytest.mark.parametrize(("mrkdwn", "card"), [
    ("*bold* and _italic_ and *_both_*", "**bold** and *italic* and ***both***"),
    ("net_new_arr, 2 * 3 * 4 and **already**", "net_new_arr, 2 * 3 * 4 and **already**"),
    ("<https://x.io/?a=1&amp;b=2|the docs> <https://y.io> <mailto:a@b.io>",
     "[the docs](https://x.io/?a=1&b=2) [https://y.io](https://y.io) [a@b.io](mailto:a@b.io)"),
    ("<@U1> <@U2|bo> <#C1|revops> <!here>", "<at>U1</at> <at>bo</at> #revops @here"),
    ("a &lt;b&gt; &amp; `x &lt; *y*`", "a <b> & `x < *y*`"),
    (":warning: *Deprecated* :tada:", "⚠️ **Deprecated** :tada:"),
])
def test_from_mrkdwn(mrkdwn, card):
    assert from_mrkdwn(mrkdwn) == card


def test_from_markdown_turns_headings_bold_and_keeps_what_cards_render():
    assert from_markdown("# Title #\n* one\n  + two\n- three\n**b** [l](https://x.io)") == (
        "**Title**\n- one\n  - two\n- three\n**b** [l](https://x.io)")
