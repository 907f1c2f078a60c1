"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STATE_DIR = Path(".crm")


def state_dir() -> Path:
    """Where `make run` keeps SQLite files, keys and NATS data (env CRM_STATE_DIR)."""
    return Path(os.environ.get("CRM_STATE_DIR", str(DEFAULT_STATE_DIR)))


class ServiceSettings(BaseSettings):
    """Common knobs. Subclasses set `model_config = SettingsConfigDict(env_prefix="CRM_X_")`.

    NATS, identity keys, log format and the event namespace are shared by every process, so they
    are read from un-prefixed variables (CRM_NATS_URL, ...) only.
    """

    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore", populate_by_name=True)

    database_url: str = ""
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        validation_alias=AliasChoices("CRM_NATS_URL"),
    )
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    metrics_port: int = 0
    identity_public_key_file: Path = Field(
        default_factory=lambda: state_dir() / "keys" / "identity_public.pem",
        validation_alias=AliasChoices("CRM_IDENTITY_PUBLIC_KEY_FILE"),
    )
    log_json: bool = Field(default=True, validation_alias=AliasChoices("CRM_LOG_JSON"))
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("CRM_LOG_LEVEL"))
    # Prefix for subjects and stream names, so test runs and environments can share one NATS.
    event_namespace: str = Field(default="", validation_alias=AliasChoices("CRM_EVENT_NAMESPACE"))
    # Stream replicas: 1 for make run, 3 on a NATS cluster.
    stream_replicas: int = Field(default=1, validation_alias=AliasChoices("CRM_STREAM_REPLICAS"))

    def sqlite_default(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{state_dir() / (name + '.db')}"
