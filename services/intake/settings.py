"""Intake's settings (environment variables; see README.md)."""

from __future__ import annotations

from typing import ClassVar

from services.plumbing.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: ClassVar[str] = "intake"
    default_http_port: ClassVar[int] = 8101
    registry_id_prefix: str = "FMR"
