"""Evaluations's wiring: its migrations, subscriptions and API on the shared service runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from registry_contracts.topics import VERIFICATION_OUTCOMES
from services.plumbing.service import ServiceState, build_service_app

from .api import router
from .domain import load_catalogue
from .handlers import CATALOGUE_KEY, subscriptions
from .settings import EvaluationsSettings


def create_app(settings: EvaluationsSettings | None = None) -> FastAPI:
    settings = settings or EvaluationsSettings.from_env()
    app = build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=[VERIFICATION_OUTCOMES.name],
        subscriptions=subscriptions,
        router=router,
        title="Frontier AI model registry: evaluations",
        description="Accredited labs, evaluation plans, requests and results.",
    )
    state: ServiceState = app.state.service
    catalogue = load_catalogue()
    catalogue.check_covers_profile(state.profile)  # a profile needing an unknown domain fails at start
    state.extras[CATALOGUE_KEY] = catalogue
    return app
