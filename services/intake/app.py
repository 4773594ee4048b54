"""Intake's wiring: its migrations, subscriptions and API on the shared service runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from registry_contracts.topics import ENFORCEMENT_CASES
from services.plumbing.service import build_service_app

from .api import router
from .handlers import subscriptions
from .settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings.from_env()
    return build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=[ENFORCEMENT_CASES.name],
        subscriptions=subscriptions,
        router=router,
        title="Frontier AI model registry: intake",
        description="Filings from developers, compute providers and third parties; public standing lookups.",
    )
