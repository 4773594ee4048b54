"""Verification's wiring: its migrations, subscriptions and API on the shared service runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from registry_contracts.topics import INTAKE_FILINGS
from services.plumbing.service import ServiceState, build_service_app

from .api import router
from .domain import load_chip_catalogue
from .handlers import CATALOGUE_KEY, subscriptions
from .settings import VerificationSettings


def create_app(settings: VerificationSettings | None = None) -> FastAPI:
    settings = settings or VerificationSettings.from_env()
    app = build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=[INTAKE_FILINGS.name],
        subscriptions=subscriptions,
        router=router,
        title="Frontier AI model registry: verification",
        description="Independent estimates of declared training compute, tiers and discrepancies.",
    )
    state: ServiceState = app.state.service
    # Read once at start-up: a bad extra catalogue fails here, not on the first filing.
    state.extras[CATALOGUE_KEY] = load_chip_catalogue(settings.chip_catalogue_extra)
    return app
