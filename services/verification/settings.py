"""Verification's settings (environment variables; see README.md)."""

from __future__ import annotations

from typing import ClassVar

from services.plumbing.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    service_name: ClassVar[str] = "verification"
    default_http_port: ClassVar[int] = 8102
    chip_catalogue_extra: str | None = None  # JSON/TOML file of extra chips merged into the catalogue
