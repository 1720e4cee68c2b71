"""Where a demo warehouse goes: a DuckDB file or a PostgreSQL database, parsed from PATH or URL.

Exceptions (all carry a one-line message fit to show to the person who typed the command;
they sit under `metrics.errors.MetricUserError`):

    DemoDataError
    ├── BadRequest          the request itself is wrong (scale, date, URL): a usage error
    └── GenerationFailed    the target could not be written or reached
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from metrics import errors

POSTGRES_DRIVERS = {"postgresql", "postgresql+psycopg", "postgres"}


class DemoDataError(errors.MetricUserError):
    """A problem generating the demo warehouse, explained in one line."""


class BadRequest(DemoDataError, errors.BadRequest):
    """The request is malformed: nothing was attempted."""


class GenerationFailed(DemoDataError):
    """The target could not be written or reached; nothing was left half-written."""


@dataclass(frozen=True)
class Target:
    """A DuckDB file (`path`) or a PostgreSQL database (`url`) and schema."""

    path: Path | None = None
    url: URL | None = None
    schema: str = "public"

    @property
    def label(self) -> str:
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True) if self.url else "?"


def parse_target(out: str | Path) -> Target:
    """Read a DuckDB path, a `duckdb:///path` URL or a PostgreSQL URL."""
    text = str(out).strip()
    if not text:
        raise BadRequest("the output path is empty")
    if "://" not in text:
        return Target(path=Path(text).expanduser())
    try:
        url = make_url(text)
    except ArgumentError:
        raise BadRequest(f"malformed URL: {text!r}") from None
    if url.drivername == "duckdb":
        if not url.database or url.database == ":memory:":
            raise BadRequest("a duckdb URL needs a file path: duckdb:///path/to/warehouse.duckdb")
        return Target(path=Path(url.database).expanduser())
    if url.drivername in POSTGRES_DRIVERS:
        if not url.host and not url.query.get("host"):
            raise BadRequest(f"malformed PostgreSQL URL (no host): {text!r}")
        return Target(url=url, schema=_search_path_schema(url))
    raise BadRequest(
        f"unsupported output {url.drivername!r}: use a DuckDB path or a postgresql:// URL")


def _search_path_schema(url: URL) -> str:
    """The first schema of `options=-csearch_path=...`, else public (what readers will see)."""
    options = url.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    for part in options.split():
        if part.startswith("-csearch_path="):
            first = part.split("=", 1)[1].split(",")[0].strip().strip('"')
            if not first.replace("_", "").isalnum():
                raise BadRequest(f"unsupported schema name in search_path: {first!r}")
            return first
    return "public"


def libpq_conninfo(url: URL) -> str:
    """The URL as psycopg/libpq understands it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
