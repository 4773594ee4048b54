"""Evaluations's settings (environment variables; see README.md)."""

from __future__ import annotations

from typing import ClassVar

from services.plumbing.settings import ServiceSettings


class EvaluationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "evaluations"
    default_http_port: ClassVar[int] = 8103
