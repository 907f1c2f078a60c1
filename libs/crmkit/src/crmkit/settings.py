"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crmkit.components import component

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
    # This process's NATS user (crmkit.natsauth): an nkey seed file, or a JWT .creds file for a
    # server run in operator mode. Neither: connect without credentials (an open NATS). Each
    # process has its own, so CRM_<NAME>_NATS_NKEY_SEED_FILE is read too.
    nats_nkey_seed_file: Path | None = Field(default=None, validation_alias=AliasChoices("CRM_NATS_NKEY_SEED_FILE"))
    nats_creds_file: Path | None = Field(default=None, validation_alias=AliasChoices("CRM_NATS_CREDS_FILE"))
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    # The largest request message the gRPC server accepts (gRPC's own default, 4 MiB); a service
    # that takes uploads raises it (the customer service: its largest attachment and some).
    grpc_max_receive_bytes: int = 4 * 1024 * 1024
    metrics_port: int = 0
    # Each partner system's token bucket on this replica (crmkit.partners): calls at once, refill.
    partner_rate_burst: int = Field(default=120, ge=1)
    partner_rate_per_minute: float = Field(default=600.0, gt=0)
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
    # The personal-data keyring (crmkit.pii) of a component the registry marks `personal_data`;
    # under the state directory by default, where `make run` creates it.
    personal_data_keys_file: Path | None = None
    # Where the components this one calls listen, by name (CRM_<NAME>_<CALLEE>_ADDR each).
    upstreams: dict[str, str] = Field(default_factory=dict)
    # End-to-end tests only (CRM_<NAME>_TEST_CLOCK_CONTROL): run on a movable clock and serve
    # crm.testing.v1.ClockControlService to move it. Off, the service is not even registered.
    # The Helm chart refuses to set it.
    test_clock_control: bool = False

    @field_validator("nats_nkey_seed_file", "nats_creds_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # An empty variable means "no file", not the current directory.
        return None if value == "" else value

    @model_validator(mode="after")
    def _one_kind_of_nats_credentials(self) -> Self:
        if self.nats_nkey_seed_file is not None and self.nats_creds_file is not None:
            raise ValueError("set CRM_NATS_NKEY_SEED_FILE or CRM_NATS_CREDS_FILE, not both")
        return self

    def sqlite_default(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{state_dir() / (name + '.db')}"

    @classmethod
    def load(cls, name: str, **values: Any) -> Self:
        """Settings of registry component `name`: environment variables prefixed CRM_<NAME>_
        (the shared ones unprefixed), then `values`; what neither sets comes from the registry
        (ports) or the embedded default (a SQLite file under the state directory)."""
        entry = component(name)
        settings = cls(_env_prefix=entry.env_prefix, **values)
        defaults: dict[str, Any] = {
            "grpc_port": entry.grpc_port,
            "metrics_port": entry.metrics_port,
            "database_url": settings.sqlite_default(name),
        }
        if entry.personal_data:
            defaults["personal_data_keys_file"] = state_dir() / "keys" / f"{name}-personal-data.keys"
        unset = {key: value for key, value in defaults.items() if key not in settings.model_fields_set}
        if not settings.database_url:
            unset["database_url"] = defaults["database_url"]
        unset["upstreams"] = {
            callee: settings.upstreams.get(callee)
            or os.environ.get(f"{entry.env_prefix}{callee.upper()}_ADDR")
            or f"127.0.0.1:{component(callee).grpc_port}"
            for callee in entry.calls
        }
        return settings.model_copy(update=unset)
