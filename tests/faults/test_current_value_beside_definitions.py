"""Finding 12: Slack shows this period's value beside a measured term's definition."""

from __future__ import annotations

import json

from bot.services import Services


def test_a_slack_definition_shows_the_current_value(serve, kb, metric_engine):
    running = serve(Services(kb, metric_engine))
    expected = metric_engine.run(metric_engine.plan("pipeline_coverage"))
    reply = json.dumps(running.answer_to("/define", "pipeline coverage", "define"),
                       ensure_ascii=False)
    assert "Pipeline Coverage" in reply
    assert expected.formatted in reply and expected.period.label in reply


def test_a_term_without_a_metric_shows_no_number(serve, kb, metric_engine):
    running = serve(Services(kb, metric_engine))
    reply = json.dumps(running.answer_to("/define", "lead", "define"))
    assert ":bar_chart:" not in reply
