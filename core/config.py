"""Settings from the environment and `.env`, validated once at start-up.

One `Settings` object is shared by the app, the CLI and background jobs. A bad
value raises `SettingsError` naming the setting, so the app can refuse to start
with a message a person can act on instead of a traceback deep in a store.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.sources.allowlist import AllowListError, parse_endpoint_list

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value the workbench cannot use."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="Root of runtime data")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under DATA_DIR if unset")
    mongodb_uri: str | None = Field(default=None, description="MongoDB URI; embedded server if unset")
    secret_key: str | None = Field(default=None, description="Signs download tokens; generated if unset")
    openai_api_key: str | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = Field(default=None, description="Override of Stripe's API base (tests)")
    public_base_url: str = Field(default="http://localhost:8501", description="Where buyers reach the app")

    demo_login: bool = Field(default=True, description="Offer 'Try the demo' when bound to localhost")
    upload_max_mb: int = Field(default=200, ge=1, le=10_000)
    # Per type, within upload_max_mb: checked on each uploaded file and on each image/audio/video member
    # of an archive.
    upload_max_text_mb: int = Field(default=200, ge=1, le=10_000, description="Largest text/table upload")
    upload_max_image_mb: int = Field(default=25, ge=1, le=10_000, description="Largest image file")
    upload_max_audio_mb: int = Field(default=100, ge=1, le=10_000, description="Largest audio file")
    upload_max_video_mb: int = Field(default=200, ge=1, le=10_000, description="Largest video file")
    # Streamed ingest (command line, API, buckets) reads a record at a time, so its limit is far larger.
    ingest_max_gb: float = Field(default=50.0, gt=0, le=100_000, description="Largest file ingested as a stream")
    ingest_batch_size: int = Field(default=2000, ge=1, le=100_000, description="Records per stored batch")
    ingest_keep_snapshot: bool = Field(default=True, description="Copy each ingested file into data/raw")
    # Bucket credentials come only from settings or the provider's own environment (AWS_ACCESS_KEY_ID...),
    # never from a source's config or the database.
    bucket_access_key_id: str | None = None
    bucket_secret_access_key: str | None = None
    bucket_session_token: str | None = None
    bucket_region: str | None = None

    scraper_user_agent: str = "DataBrokerWorkbench/0.1 (+https://localhost/contact)"
    scraper_obey_robots: bool = True
    scraper_per_host_delay_s: float = Field(default=1.0, ge=0, le=600)
    scraper_per_host_concurrency: int = Field(default=2, ge=1, le=64)
    scraper_timeout_s: float = Field(default=15.0, gt=0, le=600)
    scraper_retries: int = Field(default=3, ge=0, le=20)
    scraper_max_page_mb: float = Field(default=5.0, gt=0, le=500)
    scraper_max_redirects: int = Field(default=5, ge=0, le=30)
    network_allowlist: str = Field(
        default="", description="Comma-separated exact HOST:PORT pairs crawls may reach although private"
    )

    job_workers: int = Field(default=2, ge=1, le=32)

    # Monitoring (core/monitoring): how often resources are sampled and how much history is kept.
    monitoring_sample_seconds: int = Field(default=60, ge=5, le=86_400)
    monitoring_keep_hours: float = Field(default=48.0, gt=0, le=24 * 366)
    monitoring_max_samples: int = Field(default=5_000, ge=10, le=1_000_000)
    monitoring_log_max_entries: int = Field(default=20_000, ge=10, le=10_000_000)

    api_rate_per_minute: int = Field(default=120, ge=1, le=100_000, description="REST API requests per key per minute")
    api_rate_burst: int = Field(default=30, ge=1, le=100_000, description="REST API requests a key may send at once")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value and value.startswith("postgres://"):
            # SQLAlchemy 2 dropped the legacy alias that some hosts still hand out.
            value = "postgresql://" + value[len("postgres://"):]
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("network_allowlist")
    @classmethod
    def _allowlist_entries(cls, value: str) -> str:
        try:
            parse_endpoint_list(value)
        except AllowListError as error:
            raise ValueError(str(error)) from None
        return value

    @property
    def network_allowlist_endpoints(self) -> frozenset[tuple[str, int]]:
        return parse_endpoint_list(self.network_allowlist)

    @property
    def sql_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'workbench.db'}"

    @property
    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one generated on first use and kept under DATA_DIR.

        Keeping it on disk means download tokens survive a restart.
        """
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(key)
        os.chmod(tmp, 0o600)
        os.replace(tmp, key_file)
        return key

    def ensure_dirs(self) -> None:
        for sub in ("raw", "processed", "validated", "packages", "mongo", "models"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)


def load_settings(**overrides) -> Settings:
    """Build settings, turning pydantic's errors into one message per bad setting."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "SETTINGS"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("Invalid configuration - " + "; ".join(problems)) from None
    settings.data_dir = settings.data_dir.expanduser().resolve()
    return settings


_settings_lock = threading.Lock()
_cached_settings: Settings | None = None
_settings_generation = 0  # bumped by every reset


def get_settings() -> Settings:
    """The process's settings, read once. Not an lru_cache: a background thread (scheduler, job) that started
    reading the environment before a reset would store its stale result after the reset; here a result is
    only kept if no reset happened while it was being read."""
    global _cached_settings
    cached = _cached_settings
    if cached is not None:
        return cached
    with _settings_lock:
        generation = _settings_generation
    settings = load_settings()
    with _settings_lock:
        if _cached_settings is None and generation == _settings_generation:
            _cached_settings = settings
        return _cached_settings or settings


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    global _cached_settings, _settings_generation
    with _settings_lock:
        _cached_settings = None
        _settings_generation += 1
