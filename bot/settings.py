"""All configuration, read from the environment (prefix SSOT_) once, through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Typed settings with embedded defaults, so a fresh clone runs with none set."""

    model_config = SettingsConfigDict(env_prefix="SSOT_", env_file=".env", extra="ignore")

    glossary_dir: Path = PROJECT_ROOT / "glossary_docs"
    metrics_dir: Path = PROJECT_ROOT / "metrics" / "definitions"
    cache_dir: Path = PROJECT_ROOT / "var" / "cache"
    embedding_model: str | None = Field(
        default=None, description="Folder or name of a sentence-transformers model."
    )
    docs_base_url: str | None = Field(
        default=None, description="Web root of the glossary repo, for links to sources."
    )
    answer_threshold: float = Field(default=0.47, ge=0.0, le=1.0)

    @field_validator("docs_base_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("SSOT_DOCS_BASE_URL must be an http(s) URL")
        return value or None


@lru_cache
def get_settings() -> Settings:
    return Settings()
