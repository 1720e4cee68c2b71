"""All configuration, read from the environment (prefix SSOT_) once, through `get_settings()`."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed settings with embedded defaults, so a fresh clone runs with none set."""

    model_config = SettingsConfigDict(
        env_prefix="SSOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    glossary_dir: Path = PROJECT_ROOT / "glossary_docs"
    metrics_dir: Path = PROJECT_ROOT / "metrics" / "definitions"
    cache_dir: Path = PROJECT_ROOT / "var" / "cache"
    embedding_model: str | None = Field(
        default=None, description="Folder or name of a sentence-transformers model."
    )
    # onnx: ONNX Runtime over a checked export of the model (no torch in answering processes);
    # torch: sentence-transformers itself. Either gives the same vectors (cosine >= 0.9999).
    embedding_backend: Literal["onnx", "torch"] = "onnx"
    docs_base_url: str | None = Field(
        default=None, description="Web root of the glossary repo, for links to sources."
    )
    answer_threshold: float = Field(default=0.47, ge=0.0, le=1.0)

    # Metrics: the warehouse is read-only; "today" is configurable so answers are reproducible.
    # Unset: the generated demo warehouse at `demo_warehouse`. A configured warehouse is never
    # created or filled with demo data: if it is missing, metric answers say so.
    warehouse_url: str | None = Field(
        default=None, validation_alias=AliasChoices("WAREHOUSE_URL", "SSOT_WAREHOUSE_URL"),
    )
    demo_warehouse: Path = PROJECT_ROOT / "var" / "warehouse.duckdb"
    as_of: dt.date | None = Field(default=None, description="Today, for periods.")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    warehouse_timeout_s: float = Field(default=5.0, gt=0, le=300)
    # After a failure the warehouse is not asked again for this long (one probe, then retry).
    warehouse_retry_s: float = Field(default=30.0, gt=0, le=3600)
    currency: str = Field(default="USD", description="How warehouse amounts are labelled.")
    current_value_refresh_s: float = Field(
        default=60.0, gt=0, description="How often the value beside a definition is recomputed.")

    # The bot's own state (history, outbox, subscriptions, feedback).
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'ssot.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "SSOT_DATABASE_URL"),
    )

    # Slack: names as Slack's own docs spell them, without our prefix.
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack_api_base_url: str = Field(
        default="https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_BASE_URL")
    )
    notify_channel: str | None = Field(default=None, description="Where every change is announced.")

    # Microsoft Teams: the Azure Bot registration's app id, client secret and tenant.
    teams_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("TEAMS_CLIENT_ID")
    )
    teams_client_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TEAMS_CLIENT_SECRET")
    )
    teams_tenant_id: str | None = Field(
        default=None, validation_alias=AliasChoices("TEAMS_TENANT_ID")
    )
    # Local development only (Agents Playground, tests): activities are accepted without a
    # Bot Framework token and replies are sent without one.
    teams_dev: bool = Field(default=False, validation_alias=AliasChoices("TEAMS_DEV"))
    # Look up a Teams user's Entra groups through Microsoft Graph, for metrics restricted to
    # groups: needs the GroupMember.Read.All application permission, consented by an admin.
    # Off, a metric open to groups only is refused in Teams (it fails closed).
    teams_graph_groups: bool = Field(
        default=False, validation_alias=AliasChoices("TEAMS_GRAPH_GROUPS"))
    teams_graph_url: str = Field(
        default="https://graph.microsoft.com", validation_alias=AliasChoices("TEAMS_GRAPH_URL"))

    # User ids (Slack U0123ABCD, Teams AAD object ids), comma-separated: who may see the
    # unanswered questions (`/ssot gaps`, `gaps` in Teams).
    owners: Annotated[frozenset[str], NoDecode] = frozenset()
    sync_interval_s: float = Field(default=300.0, gt=0)

    @property
    def warehouse(self) -> str:
        """The warehouse URL in use: the configured one, else the demo one."""
        return self.warehouse_url or f"duckdb:///{self.demo_warehouse}"

    @property
    def teams(self) -> bool:
        """Whether the Teams endpoint is served: with credentials, or in TEAMS_DEV mode."""
        return self.teams_dev or bool(self.teams_client_id and self.teams_client_secret)

    @property
    def demo(self) -> bool:
        """Whether answers come from the generated demo warehouse."""
        return not self.warehouse_url

    @field_validator("warehouse_url")
    @classmethod
    def _set_or_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("owners", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(v for v in value.replace(",", " ").split())
        return value

    @field_validator("docs_base_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("SSOT_DOCS_BASE_URL must be an http(s) URL")
        return value or None

    @field_validator("as_of")
    @classmethod
    def _lookup_range(cls, value: dt.date | None) -> dt.date | None:
        # Every period is reckoned from this day: one at the edge of the calendar breaks them all.
        from metrics.errors import BadRequest
        from metrics.periods import check_day

        try:
            return check_day(value) if value else None
        except BadRequest as exc:
            raise ValueError(f"SSOT_AS_OF: {exc}") from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
