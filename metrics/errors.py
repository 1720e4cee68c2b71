"""Errors raised by the metrics layer.

    MetricError
    ├── MetricUserError            safe to show to the person who asked
    │   ├── UnknownMetric          no governed metric by that id or name (carries suggestions)
    │   ├── BadRequest             unknown dimension or value, malformed period, bad option
    │   ├── Restricted             the metric's audience does not include the asker
    │   └── WarehouseUnavailable   the warehouse cannot be reached or timed out
    └── DefinitionError            metric definitions on disk are invalid (carries the issues)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.issues import Issue


class MetricError(Exception):
    """Root of every error raised by `metrics`."""


class MetricUserError(MetricError):
    """An error whose message is written for the person asking."""


class UnknownMetric(MetricUserError):
    """No governed metric has this id or name."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class BadRequest(MetricUserError):
    """A dimension, filter value, period or option that the metric does not allow."""


class Restricted(MetricUserError):
    """The metric is visible only to named channels or groups."""


class WarehouseUnavailable(MetricUserError):
    """The warehouse did not answer; definitions keep working."""


class DefinitionError(MetricError):
    """The metric definitions have validation issues."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__(f"{len(issues)} problem(s) in the metric definitions; first: {issues[0]}")
