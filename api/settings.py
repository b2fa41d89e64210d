"""The one settings class: every knob of a deployment, read from ENTRASYNC_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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

    # Where sync runs execute (R1): "embedded" runs them as tasks of the API process (taskiq's
    # in-memory broker); "external" queues them in Redis (redis_url) for `entrasync worker`
    # processes, and the API process executes none. Both run the same task code.
    workers: Literal["embedded", "external"] = "embedded"
    # Runs one `entrasync worker` process executes at once.
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    # Recorded on each run it executes; "host:pid" when empty.
    worker_name: str = Field(default="", max_length=200)
    # On SIGTERM a worker takes no new run and lets its runs finish this long, then stops them
    # (they end FAILED "interrupted", and the next run repairs everything: R6).
    worker_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    # R6: a run beats this often; one silent for run_stale_after_seconds died with its process
    # and is marked FAILED "interrupted". A run QUEUED longer than run_queue_timeout_seconds was
    # never picked up (no worker running, or its message lost) and is failed the same way.
    run_heartbeat_seconds: float = Field(default=10.0, gt=0)
    run_stale_after_seconds: float = Field(default=60.0, gt=0)
    run_queue_timeout_seconds: float = Field(default=3600.0, gt=0)

    # R9: syncs between full rounds are incremental (Graph delta); a full round runs when the
    # last one is this many hours old, and after every configuration change. 0: always full.
    full_sync_hours: float = Field(default=24.0, ge=0)
    # The mass-change guard checks only runs of connections with at least this many imported
    # users (a first import, or a small tenant, never waits for an approval).
    mass_change_min_users: int = Field(default=20, ge=1)

    # Operations: logs as JSON lines (the default in production) or text; /metrics optionally
    # behind a bearer token of its own (Prometheus' `authorization` scrape setting).
    log_format: Literal["json", "text"] | None = None
    log_level: str = "INFO"
    metrics_token: SecretStr | None = None

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
    # A request body (or a chunked one) not fully received within this many seconds gets 408.
    request_body_timeout_seconds: float = Field(default=10.0, gt=0)
    # Operations one websocket may run at once (graphql-transport-ws subscribe messages).
    max_subscriptions_per_connection: int = Field(default=20, ge=1)

    # Rate limits (api/ratelimit.py): per API key, and per client address for requests that fail
    # authentication. 0 turns a limit off. Shared through Redis when redis_url is set.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    rate_limit_unauthenticated_per_minute: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _check_workers(self) -> Settings:
        if self.workers == "external" and not self.redis_url:
            raise ValueError("ENTRASYNC_WORKERS=external needs ENTRASYNC_REDIS_URL (the run queue)")
        if self.run_stale_after_seconds < 2 * self.run_heartbeat_seconds:
            raise ValueError(
                "ENTRASYNC_RUN_STALE_AFTER_SECONDS must be at least twice "
                "ENTRASYNC_RUN_HEARTBEAT_SECONDS, or live runs would be taken for dead"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format is None and self.production)

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

    @property
    def admin_consent_redirect_uri(self) -> str:
        return f"{self.resolved_public_url}/oauth/adminconsent"
