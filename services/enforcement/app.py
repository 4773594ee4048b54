"""Enforcement's wiring: its migrations, subscriptions, API, officers' desk and deadline job on the shared
service runtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from registry_contracts.topics import EVALUATIONS_OUTCOMES, INTAKE_FILINGS, VERIFICATION_OUTCOMES
from services.plumbing.metrics import Metric
from services.plumbing.service import ServiceState, build_service_app

from .api import router as api_router
from .deadlines import response_deadlines
from .desk import router as desk_router
from .domain import CaseStatus, RuleId
from .handlers import subscriptions
from .queries import queue_counts
from .settings import EnforcementSettings

TOPICS = [VERIFICATION_OUTCOMES.name, INTAKE_FILINGS.name, EVALUATIONS_OUTCOMES.name]


async def case_metrics(state: ServiceState) -> list[Metric]:
    """Enforcement's own gauges on /metrics: cases by status and by rule (every status and rule listed)."""
    counts = await queue_counts(state.db)
    by_status = {status.value: 0 for status in CaseStatus} | counts["status"]
    by_rule = {rule.value: 0 for rule in RuleId} | counts["rule"]
    return [
        Metric("cases", "Enforcement cases by status.", by_status, "status"),
        Metric("cases_by_rule", "Enforcement cases by the rule they are about.", by_rule, "rule"),
    ]


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
        extra_metrics=case_metrics,
        title="Frontier AI model registry: enforcement",
        description="Rules, cases, actions and penalties; the officers' case desk.",
    )
