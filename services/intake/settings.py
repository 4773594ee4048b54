"""Intake's settings (environment variables; see docs/intake.md)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from services.plumbing.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: ClassVar[str] = "intake"
    default_http_port: ClassVar[int] = 8101
    registry_id_prefix: str = "FMR"
    intake_restricted_key: str | None = Field(
        default=None, description="Base64 AES-256 key(s), comma-separated, first seals: restricted fields at rest."
    )
    intake_signing_key_file: str | None = Field(
        default=None, description="PEM Ed25519 key signing public standing answers (created if missing)."
    )
    intake_restricted_readers: str = Field(
        default="", description="Comma-separated token subjects of staff cleared to read restricted fields."
    )
    intake_lookup_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Longest a process serves a cached standing answer (changes drop it at once: PostgreSQL NOTIFY).",
    )

    @property
    def restricted_readers(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.intake_restricted_readers.split(",") if s.strip())
