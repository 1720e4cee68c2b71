"""The governed definitions on disk as flat records the history can compare and store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.state.errors import SyncRefused
from knowledge.glossary import check_directory
from knowledge.issues import Issue
from knowledge.models import Owner, Status, Term
from metrics.catalog import metric_ids

# Fields of a metric file that identify or govern it; everything else shapes what it computes.
_METRIC_META = {"id", "name", "description", "owner", "status", "version", "updated", "glossary"}


class Definition(BaseModel):
    """One term or metric definition as it stands in the files now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    id: str
    name: str
    version: str
    status: Status
    owner: str
    domain: str | None
    aliases: tuple[str, ...] = ()
    path: str
    text: str
    updated: dt.date | None = None
    term: str | None = None  # the glossary term a metric computes: its subscribers hear too

    @property
    def content_hash(self) -> str:
        """Changes when anything governed changes: not the aliases, path or updated date."""
        governed = self.model_dump(include={"name", "version", "status", "owner", "domain",
                                            "text"})
        return hashlib.sha256(json.dumps(governed, sort_keys=True).encode()).hexdigest()


class MetricFile(BaseModel):
    """The part of a metric definition file the history needs; extra keys are formula."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    name: str
    description: str
    owner: Owner
    status: Status
    version: str
    updated: dt.date | None = None
    glossary: str | None = None


def load_definitions(glossary_dir: Path, metrics_dir: Path) -> list[Definition]:
    """Every term and metric definition; raises SyncRefused listing every problem."""
    glossary, issues = check_directory(glossary_dir, metric_ids(metrics_dir))
    metrics, metric_issues = _load_metrics(metrics_dir)
    issues = [*issues, *metric_issues]
    if issues or glossary is None:
        raise SyncRefused(issues)
    terms = [_from_term(t) for t in glossary.terms.values()]
    domains = {t.id: t.domain for t in glossary.terms.values()}
    return terms + [_from_metric(m, path, domains) for m, path in metrics]


def _from_term(term: Term) -> Definition:
    return Definition(
        kind="term", id=term.id, name=term.name, version=term.version, status=term.status,
        owner=str(term.owner), domain=term.domain, aliases=term.aliases, path=term.path,
        text=term.definition, updated=term.updated,
    )


def _from_metric(metric: MetricFile, path: str, domains: dict[str, str]) -> Definition:
    formula = {k: v for k, v in (metric.model_extra or {}).items() if k not in _METRIC_META}
    lines = [f"{name}: {value}" for name, value in _flatten(formula)]
    text = "\n".join([metric.description.strip(), *lines])
    return Definition(
        kind="metric", id=metric.id, name=metric.name, version=metric.version,
        status=metric.status, owner=str(metric.owner), domain=domains.get(metric.glossary or ""),
        path=path, text=text, updated=metric.updated, term=metric.glossary,
    )


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = []
    for name in sorted(data):
        value = data[name]
        if isinstance(value, dict):
            pairs.extend(_flatten(value, f"{prefix}{name}."))
        else:
            pairs.append((f"{prefix}{name}", value))
    return pairs


def _load_metrics(directory: Path) -> tuple[list[tuple[MetricFile, str]], list[Issue]]:
    found: list[tuple[MetricFile, str]] = []
    issues: list[Issue] = []
    for path in sorted(directory.glob("*.yml")):
        shown = f"{directory.parent.name}/{directory.name}/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found.append((MetricFile.model_validate(data), shown))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            issues.append(Issue(path=shown, line=1, field="-", message=f"unreadable: {exc}"))
        except ValidationError as exc:
            issues.extend(Issue(path=shown, line=1, field=".".join(map(str, e["loc"])) or "-",
                                message=e["msg"]) for e in exc.errors())
    ids = [m.id for m, _ in found]
    issues.extend(Issue(path=shown, line=1, field="id", message=f"duplicate metric id '{m.id}'")
                  for (m, shown) in found if ids.count(m.id) > 1)
    return found, issues
