"""Enforcement's wiring: its migrations, subscriptions, API, officers' desk and deadline job on the shared
service runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from registry_contracts.topics import EVALUATIONS_OUTCOMES, INTAKE_FILINGS, VERIFICATION_OUTCOMES
from services.plumbing.service import build_service_app

from .api import router as api_router
from .deadlines import response_deadlines
from .desk import router as desk_router
from .handlers import subscriptions
from .settings import EnforcementSettings

TOPICS = [VERIFICATION_OUTCOMES.name, INTAKE_FILINGS.name, EVALUATIONS_OUTCOMES.name]


def create_app(settings: EnforcementSettings | None = None) -> FastAPI:
    settings = settings or EnforcementSettings.from_env()
    router = APIRouter()
    router.include_router(api_router)
    router.include_router(desk_router)
    return build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=TOPICS,
        subscriptions=subscriptions,
        router=router,
        background=[response_deadlines],
        title="Frontier AI model registry: enforcement",
        description="Rules, cases, actions and penalties; the officers' case desk.",
    )
