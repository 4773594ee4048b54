"""Enforcement's settings (environment variables; see docs/enforcement.md)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from services.plumbing.settings import ServiceSettings


class EnforcementSettings(ServiceSettings):
    service_name: ClassVar[str] = "enforcement"
    default_http_port: ClassVar[int] = 8104

    deadline_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often due response deadlines and future-dated actions are applied."
    )
    desk_secret: str | None = Field(
        default=None,
        description="Key for the desk's CSRF tokens; set it (same on every replica) in production. "
        "Unset: a random key per process, so forms opened before a restart must be reloaded.",
    )
    desk_cookie_secure: bool = Field(
        default=False, description="Mark the desk's session cookie Secure (set true behind HTTPS)."
    )
