"""The one settings class: every knob of a deployment, read from ENTRASYNC_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTRASYNC_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    # Tortoise URL: sqlite://path/to/file.db or postgres://user@host:5432/db (asyncpg).
    # Empty means the embedded default, a SQLite file in data_dir.
    database_url: str = ""
    redis_url: str | None = None
    # Channel and key prefix in Redis, so that several deployments (or test runs) can share one.
    redis_prefix: str = "entrasync:"
    host: str = "127.0.0.1"
    port: int = 8000
    # The address browsers use to reach this server; the OAuth redirect URI is built from it.
    public_url: str = ""
    # AES-256-GCM keys for token caches at rest, "kid:base64key[,kid:base64key...]"; first is primary.
    encryption_key: SecretStr | None = None

    # R4: "embedded" runs the scheduler inside the API process (the single-machine default);
    # "off" leaves it to `entrasync scheduler` processes.
    scheduler: Literal["embedded", "off"] = "embedded"
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)

    # Microsoft: real endpoints by default; the demo and the tests point these at the simulator.
    entra_client_id: str = ""
    entra_client_secret: SecretStr | None = None
    entra_authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"

    # GraphQL guards (production safety from day one).
    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=15, ge=1)
    max_query_tokens: int = Field(default=2000, ge=50)
    max_query_bytes: int = Field(default=20_000, ge=256)

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'entrasync.db'}"

    @property
    def resolved_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.resolved_public_url}/oauth/callback"
