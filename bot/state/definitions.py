"""The governed definitions on disk as flat records the history can compare and store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.state.errors import SyncRefused
from knowledge.glossary import check_directory
from knowledge.loading import load_directory
from knowledge.models import Status, Term
from metrics.catalog import check_definitions, metric_ids
from metrics.definitions import Metric

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


def load_definitions(glossary_dir: Path, metrics_dir: Path) -> list[Definition]:
    """Every term and metric definition; raises SyncRefused listing every problem."""
    glossary, issues = check_directory(glossary_dir, metric_ids(metrics_dir))
    terms = glossary.terms if glossary else {t.id: t for t in load_directory(glossary_dir).terms}
    catalog, metric_issues = check_definitions(metrics_dir, terms)
    issues = [*issues, *metric_issues]
    if issues or glossary is None or catalog is None:
        raise SyncRefused(issues)
    domains = {t.id: t.domain for t in glossary.terms.values()}
    return ([_from_term(t) for t in glossary.terms.values()]
            + [_from_metric(m, domains) for m in catalog])


def _from_term(term: Term) -> Definition:
    return Definition(
        kind="term", id=term.id, name=term.name, version=term.version, status=term.status,
        owner=str(term.owner), domain=term.domain, aliases=term.aliases, path=term.path,
        text=term.definition, updated=term.updated,
    )


def _from_metric(metric: Metric, domains: dict[str, str]) -> Definition:
    formula = metric.model_dump(mode="json", exclude=_METRIC_META | {"path", "field_lines"},
                                exclude_defaults=True)
    lines = [f"{name}: {_plain(value)}" for name, value in _flatten(formula)]
    text = "\n".join([metric.description.strip(), *lines])
    return Definition(
        kind="metric", id=metric.id, name=metric.name, version=metric.version,
        status=metric.status, owner=str(metric.owner), domain=domains.get(metric.glossary),
        path=metric.path, text=text, updated=metric.updated, term=metric.glossary,
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


def _plain(value: object) -> object:
    """500, not 500.0: the number as its owner wrote it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
