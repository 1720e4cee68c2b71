"""Bad metric requests get a clear message and nothing else happens: no query, no change."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from bot.services import Services
from metrics.audience import Audience
from metrics.catalog import load_catalog
from metrics.engine import MetricEngine
from metrics.errors import BadRequest, Restricted, UnknownMetric, WarehouseUnavailable
from metrics.periods import Calendar
from metrics.warehouse import open_warehouse

from conftest import AS_OF, ROOT

INJECTIONS = ["EMEA'; DROP TABLE opportunities; --", "EMEA' OR '1'='1", "x\"; DELETE FROM leads"]


@pytest.fixture(scope="module")
def engine(warehouse_url) -> MetricEngine:
    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                        open_warehouse(warehouse_url), lambda: Calendar(AS_OF))


def _fingerprint(engine: MetricEngine) -> dict[str, int]:
    with engine.warehouse.connect() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables ORDER BY 1"))]
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def test_an_unknown_metric_suggests_the_closest_ones(engine):
    with pytest.raises(UnknownMetric) as caught:
        engine.plan("win rat")
    assert caught.value.suggestions[0] == "win_rate"
    assert "Did you mean: win_rate" in str(caught.value)


def test_an_unknown_dimension_lists_the_allowed_ones(engine):
    with pytest.raises(BadRequest, match="allowed dimensions: segment, region, source, type"):
        engine.plan("win_rate", by=["colour"])


def test_an_unknown_value_lists_the_values_the_warehouse_has(engine):
    with pytest.raises(BadRequest, match=r"'Mars' is not a region.*APAC, EMEA, LATAM, NA"):
        engine.plan("bookings", where={"region": "Mars"})


def test_filter_values_match_case_insensitively_and_use_the_stored_spelling(engine):
    assert engine.plan("bookings", where={"region": "emea"}).where == {"region": ("EMEA",)}


def test_a_malformed_period_names_the_accepted_forms(engine):
    with pytest.raises(BadRequest, match="2026-Q3"):
        engine.plan("bookings", "the quarter after next")


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_attempts_are_rejected_as_values_and_change_nothing(engine, attack):
    before = _fingerprint(engine)
    attempts = [
        lambda: engine.plan(attack),
        lambda: engine.plan("bookings", attack),
        lambda: engine.plan("bookings", by=[attack]),
        lambda: engine.plan("bookings", where={"region": attack}),
        lambda: engine.plan("bookings", where={attack: "EMEA"}),
    ]
    for attempt in attempts:
        with pytest.raises((BadRequest, UnknownMetric)):
            attempt()
    assert _fingerprint(engine) == before


def test_the_warehouse_connection_cannot_write(engine):
    with engine.warehouse.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.execute(sa.text("DELETE FROM opportunities"))


def test_a_restricted_metric_is_refused_outside_its_audience_and_answered_inside(engine):
    with pytest.raises(Restricted, match="#finance"):
        engine.plan("cac")
    with pytest.raises(Restricted):
        engine.plan("ltv_cac_ratio", audience=Audience(channel="general"))
    assert engine.plan("cac", audience=Audience(channel="#finance")).metric.id == "cac"
    assert engine.plan("cac", audience=Audience(groups=frozenset({"Finance"}))).metric.id == "cac"


def test_an_unreachable_warehouse_answers_within_five_seconds_and_definitions_still_work(kb):
    dead = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                        open_warehouse("postgresql://postgres@127.0.0.1:9/nowhere", 5.0),
                        lambda: Calendar(AS_OF))
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable, match="definitions still work"):
        dead.run(dead.plan("bookings"))
    assert time.monotonic() - started < 5
    services = Services(kb, dead)
    answer = services.ask("what is our pipeline coverage this quarter?")
    assert answer.kind == "definition" and answer.id == "pipeline_coverage"
    assert "No current number" in answer.notice
    governed = kb.define("pipeline coverage").definition
    assert services.define("pipeline coverage").definition == governed
