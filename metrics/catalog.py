"""Load `metrics/definitions/*.yml`, collecting every problem as `path:line: field: message`."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.issues import Issue
from knowledge.loading import relative
from metrics.definitions import _DAYS_BETWEEN, Measure, Metric
from metrics.errors import DefinitionError
from metrics.model import CONDITIONS, DIMENSIONS, PERIOD_TABLES, TABLES
from metrics.value_words import Words, check_value_words
from metrics.yaml_files import Loader, read_mapping

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"


def metric_ids(directory: Path = DEFINITIONS_DIR) -> set[str]:
    """Ids declared by `*.yml` files; a file that does not parse contributes none."""
    ids = set()
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.add(data["id"])
    return ids


@dataclass(frozen=True)
class Catalog:
    """The validated metric definitions, by id, and the words people use for dimension values."""

    metrics: dict[str, Metric]
    words: dict[str, Words] = field(default_factory=dict)

    def __getitem__(self, metric_id: str) -> Metric:
        return self.metrics[metric_id]

    def __contains__(self, metric_id: object) -> bool:
        return metric_id in self.metrics

    def __iter__(self):
        return iter(self.metrics.values())

    def dependencies(self, metric: Metric) -> list[Metric]:
        """The metric and every metric its formula uses, dependencies first."""
        seen: dict[str, Metric] = {}

        def visit(m: Metric) -> None:
            for ref in m.metrics:
                if ref not in seen and ref in self.metrics:
                    visit(self.metrics[ref])
            seen.setdefault(m.id, m)

        visit(metric)
        return list(seen.values())

    def periodic(self, metric: Metric) -> bool:
        """Whether the metric is computed for a period: a measure has a time column or reads
        a period table."""
        return any(m.periodic or any(ms.table in PERIOD_TABLES
                                     for ms in m.named_measures().values())
                   for m in self.dependencies(metric))


def check_definitions(directory: Path, terms: Mapping[str, object] | None = None,
                      display_root: Path | None = None) -> tuple[Catalog | None, list[Issue]]:
    """Load and validate every definition; `terms` (id → Term) also checks glossary agreement."""
    issues: list[Issue] = []
    metrics: list[Metric] = []
    if not directory.is_dir():
        return None, [Issue(path=str(directory), line=0, field="-", message="no such directory")]
    shown_root = display_root or directory.parent.parent
    for path in sorted(directory.glob("*.yml")):
        metric, found = _load_file(path, relative(path, shown_root))
        issues += found
        if metric is not None:
            metrics.append(metric)
    by_id: dict[str, Metric] = {}
    for metric in metrics:
        if metric.id in by_id:
            issues.append(_at(metric, "id", f"'{metric.id}' is already used by "
                                            f"{by_id[metric.id].path}"))
        by_id.setdefault(metric.id, metric)
    for metric in by_id.values():
        issues += _semantic_issues(metric, by_id)
        if terms is not None:
            issues += _glossary_issues(metric, terms)
    if terms is not None:
        issues += _terms_without_their_metric(terms, by_id, directory)
    words, found = check_value_words(directory, shown_root)
    issues += found
    if issues:
        return None, sorted(issues, key=lambda i: (i.path, i.line, i.field))
    return Catalog(by_id, words), []


def load_catalog(directory: Path, terms: Mapping[str, object] | None = None) -> Catalog:
    """A catalogue that must be valid; raises DefinitionError listing every issue."""
    catalog, issues = check_definitions(directory, terms)
    if catalog is None:
        raise DefinitionError(issues)
    return catalog


def _load_file(path: Path, shown: str) -> tuple[Metric | None, list[Issue]]:
    data, lines, issues = read_mapping(path, shown)
    if data is None:
        return None, issues
    top = {path[0]: line for path, line in lines.items() if len(path) == 1}
    dotted = {".".join(path): line for path, line in lines.items()}
    try:
        metric = Metric.model_validate(dict(data, path=shown, field_lines=dotted))
    except ValidationError as exc:
        return None, [_validation_issue(shown, lines, err) for err in exc.errors()]
    if metric.id != path.stem:
        return None, [Issue(path=shown, line=top.get("id", 1), field="id",
                            message=f"id '{metric.id}' must match the file name '{path.stem}.yml'")]
    return metric, []


def _validation_issue(shown: str, lines: dict, err: dict) -> Issue:
    loc = tuple(str(p) for p in err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "required field is missing"
    elif err["type"] == "extra_forbidden":
        message = "unknown field (check the spelling against metrics/README.md)"
    probe = loc
    while probe and probe not in lines:
        probe = probe[:-1]
    return Issue(path=shown, line=lines.get(probe, 1), field=".".join(loc) or "-",
                 message=message)


def _semantic_issues(metric: Metric, by_id: dict[str, Metric]) -> list[Issue]:
    issues = []
    for name, measure in metric.named_measures().items():
        issues += [_at(metric, f"{_field_of(metric, name)}{sub}", msg)
                   for sub, msg in _measure_problems(measure)]
        tables = DIMENSIONS.get(measure.table, {})
        for dim in metric.dimensions:
            if dim not in tables:
                issues.append(_at(metric, "dimensions", f"'{dim}' cannot be reached from table "
                                                        f"'{measure.table}' (measure '{name}')"))
    for ref in metric.metrics:
        if ref not in by_id:
            issues.append(_at(metric, "metrics", f"no governed metric '{ref}'"))
        elif by_id[ref].restricted and not metric.restricted:
            issues.append(_at(metric, "visibility", f"uses restricted metric '{ref}', so it "
                                                    "must be restricted too"))
    if _cycle(metric, by_id):
        issues.append(_at(metric, "metrics", "metrics refer to each other in a cycle"))
    names = {*metric.named_measures(), *metric.metrics, *metric.parameters}
    issues += [_at(metric, "expr", msg) for msg in _formula_problems(metric.formula(), names)]
    return issues


def _field_of(metric: Metric, name: str) -> str:
    return f"measures.{name}" if metric.type == "derived" else (
        "measure" if metric.type == "simple" else name)


def _measure_problems(measure: Measure) -> list[tuple[str, str]]:
    """(sub-field, message) for each problem of a measure against the warehouse model."""
    period_table = PERIOD_TABLES.get(measure.table)
    table = TABLES.get(measure.table) if period_table is None else period_table.shape
    if table is None:
        known = ", ".join(sorted({*TABLES, *PERIOD_TABLES}))
        return [(".table", f"unknown table '{measure.table}'; tables: {known}")]
    problems = []
    if period_table is not None and (measure.time or measure.window != "period"):
        problems.append((".time" if measure.time else ".window",
                         f"'{measure.table}' is computed for the asked period already; "
                         "leave out 'time' and 'window'"))
    elif measure.time and measure.time not in table.c:
        problems.append((".time", f"table '{measure.table}' has no column '{measure.time}'"))
    if measure.expr:
        match = _DAYS_BETWEEN.match(measure.expr)
        for column in match.groups() if match else [measure.expr]:
            if column not in table.c:
                problems.append((".expr", f"table '{measure.table}' has no column '{column}'"))
    for index, f in enumerate(measure.filters):
        at = f".filters.{index}"
        for column in (f.column, f.within_hours_of):
            if column and column not in table.c:
                problems.append((at, f"table '{measure.table}' has no column '{column}'"))
        if f.condition and (f.condition not in CONDITIONS
                            or CONDITIONS[f.condition][0] != measure.table):
            usable = [n for n, (t, _) in CONDITIONS.items() if t == measure.table]
            problems.append((at, f"no condition '{f.condition}' on '{measure.table}'; "
                                 f"known: {', '.join(usable) or 'none'}"))
    return problems


def _formula_problems(formula: str, names: set[str]) -> list[str]:
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        return [f"'{formula}' is not a formula"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names:
            problems.append(f"'{node.id}' is not a measure, metric or parameter of this metric")
        elif not isinstance(node, ast.Expression | ast.BinOp | ast.Name | ast.Constant
                            | ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Load | ast.UnaryOp
                            | ast.USub):
            kind = type(node).__name__
            problems.append(f"only + - * / numbers and names are allowed, not {kind}")
    return problems


def _cycle(metric: Metric, by_id: dict[str, Metric], path: tuple[str, ...] = ()) -> bool:
    if metric.id in path:
        return True
    return any(_cycle(by_id[r], by_id, (*path, metric.id)) for r in metric.metrics if r in by_id)


def _glossary_issues(metric: Metric, terms: Mapping[str, object]) -> list[Issue]:
    term = terms.get(metric.glossary)
    if term is None:
        return [_at(metric, "glossary", f"no glossary term '{metric.glossary}'")]
    if getattr(term, "metric", None) != metric.id:
        return [_at(metric, "glossary", f"term '{metric.glossary}' ({term.path}) must name this "
                                        f"metric with 'metric: {metric.id}'")]
    return []


def _terms_without_their_metric(terms: Mapping[str, object], by_id: dict[str, Metric],
                                directory: Path) -> list[Issue]:
    issues = []
    for term in terms.values():
        metric = by_id.get(getattr(term, "metric", None) or "")
        if metric is not None and metric.glossary != term.id:
            issues.append(_at(metric, "glossary", f"term '{term.id}' names this metric, so "
                                                  f"'glossary' must be '{term.id}'"))
    return issues


def _at(metric: Metric, field: str, message: str) -> Issue:
    """An issue on the line of the deepest part of `field` the file spells out."""
    parts = field.split(".")
    while parts and ".".join(parts) not in metric.field_lines:
        parts.pop()
    line = metric.field_lines.get(".".join(parts), 1)
    return Issue(path=metric.path, line=line, field=field, message=message)
