"""Words for dimension values are governed files beside the metric definitions: checked with
file and line like the definitions, and served on reload like them."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.services import Services
from metrics.catalog import check_definitions, load_catalog
from metrics.engine import MetricEngine

from conftest import ROOT

DEFINITIONS = ROOT / "metrics" / "definitions"


def copy_definitions(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, target)
    return target


def test_the_shipped_words_are_valid_and_loaded_with_the_catalogue():
    catalog = load_catalog(DEFINITIONS)
    assert catalog.words["type"].lookup({"new_business": "new_business"})["new logo"] == (
        "new_business")
    assert catalog.words["segment"].lookup({"mid-market": "Mid-Market"})["mid market"] == (
        "Mid-Market")
    assert "rep" in catalog.words["owner"].names


def test_problems_are_named_by_file_line_and_field(tmp_path):
    folder = copy_definitions(tmp_path)
    (folder / "dimensions" / "region.yml").write_text(
        "id: region\nplural: regions\nvalues:\n  NA: [north america]\n"
        "  EMEA: [europe, North-America]\ncolour: blue\n", encoding="utf-8")
    (folder / "dimensions" / "planet.yml").write_text(
        "id: planet\nplural: planets\nvalues: {}\n", encoding="utf-8")
    (folder / "dimensions" / "owner.yml").write_text(
        "id: owner\nplural: owners\nnames: [rep, segment]\nvalues: {}\n", encoding="utf-8")
    (folder / "dimensions" / "segment.yml").write_text(
        "id: segment\nplural: segments\nnames: [rep]\nvalues: {}\n", encoding="utf-8")
    catalog, issues = check_definitions(folder, display_root=tmp_path)
    shown = [str(i) for i in issues]
    assert catalog is None
    assert shown == [
        "definitions/dimensions/owner.yml:3: names.1: 'segment' already names 'segment'",
        "definitions/dimensions/planet.yml:1: id: 'planet' is not a dimension; dimensions: "
        "owner, region, segment, source, source_system, target_system, type",
        "definitions/dimensions/region.yml:6: colour: unknown field (id, plural, names, values "
        "and not_alone are allowed)",
        "definitions/dimensions/segment.yml:3: names.0: 'rep' already names 'owner'",
    ]
    (folder / "dimensions" / "region.yml").write_text(
        "id: region\nplural: regions\nvalues:\n  NA: [north america]\n"
        "  EMEA: [europe, North-America]\n", encoding="utf-8")
    _, issues = check_definitions(folder, display_root=tmp_path)
    assert "definitions/dimensions/region.yml:5: values.EMEA.1: 'North-America' already " \
           "stands for 'NA'" in [str(i) for i in issues]


def test_a_reload_with_a_new_word_filters_by_it(kb, metric_engine, tmp_path):
    folder = copy_definitions(tmp_path)
    engine = MetricEngine(load_catalog(folder), metric_engine.warehouse, metric_engine.calendar)
    services = Services(kb, engine, metrics_dir=folder)
    question = "what were our bookings in dach last quarter"
    assert "'dach' is not a region" in services.ask(question).message

    region = folder / "dimensions" / "region.yml"
    region.write_text(region.read_text("utf-8").replace("EMEA: [europe,", "EMEA: [dach, europe,"),
                      "utf-8")
    assert services.reload().changed
    answer = services.ask(question)
    assert answer.kind == "metric" and answer.result.filters == {"region": ("EMEA",)}
