"""Settings every service reads from its environment, with documented defaults.

Each variable is read once at start-up; nothing reads the environment at import time. A service adds its own
fields by subclassing `ServiceSettings`; README.md lists every variable.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:15432/registry"
DEFAULT_KAFKA = "127.0.0.1:19092"


class ServiceSettings(BaseModel):
    """Common settings. Environment names are the upper-cased field names (e.g. DATABASE_URL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    service_name: ClassVar[str] = "service"
    default_http_port: ClassVar[int] = 8000

    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="PostgreSQL server URL.")
    kafka_bootstrap_servers: str = Field(default=DEFAULT_KAFKA, description="Comma-separated host:port.")
    kafka_security_protocol: str = Field(default="PLAINTEXT", description="PLAINTEXT or SASL_PLAINTEXT/SASL_SSL.")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 0  # 0: the service's default port
    rule_profile: str = Field(default="baseline-2026-01", description="Built-in profile id or TOML path.")
    log_level: str = "INFO"
    log_file: str | None = Field(default=None, description="Write JSON logs here as well as to stderr.")
    otel_traces_file: str | None = Field(default=None, description="Append finished spans as JSON lines.")
    outbox_batch_size: int = Field(default=200, ge=1, le=5000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_retention_hours: float = Field(
        default=168.0, gt=0, description="How long published outbox rows are kept (inspection, replay)."
    )
    consumer_max_attempts: int = Field(default=5, ge=1, description="Tries before a message is dead-lettered.")
    consumer_batch_size: int = Field(
        default=100, ge=1, le=5000, description="Most messages read at once; offsets are committed once per batch."
    )
    consumer_parallelism: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Models applied at the same time (each model in order); keep below db_pool_max.",
    )
    db_pool_max: int = Field(default=10, ge=1)
    audit_anchor_seconds: float = Field(
        default=60.0, gt=0, description="Longest time before the audit chain's newest entry is anchored on Kafka."
    )
    auth_public_keys_file: str | None = Field(default=None, description="PEM file of token-signing public keys.")
    auth_jwks_file: str | None = Field(default=None, description="JWKS document of token-signing keys.")
    auth_issuer: str = Field(default="registry-dev", description="Expected `iss` of bearer tokens.")
    auth_audience: str = Field(default="frontier-registry", description="Expected `aud` of bearer tokens.")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Self:
        """Build settings from environment variables, then apply explicit overrides (tests)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update(overrides)
        return cls.model_validate(values)

    @model_validator(mode="after")
    def _connections_left_for_requests(self) -> Self:
        if self.consumer_parallelism >= self.db_pool_max:
            raise ValueError(
                f"consumer_parallelism ({self.consumer_parallelism}) must be below db_pool_max ({self.db_pool_max}):"
                " the consumer would take every connection and leave none for HTTP requests and background jobs"
            )
        return self

    @property
    def port(self) -> int:
        return self.http_port or self.default_http_port

    @property
    def db_schema(self) -> str:
        """The service's own PostgreSQL schema, which no other service reads."""
        return self.service_name
