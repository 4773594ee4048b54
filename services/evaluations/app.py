"""Evaluations's wiring: its migrations, subscriptions, background jobs and API on the shared service runtime."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from registry_contracts.topics import INTAKE_FILINGS, VERIFICATION_OUTCOMES
from services.plumbing.service import ServiceState, build_service_app

from . import store
from .api import router
from .domain import load_catalogue
from .handlers import CATALOGUE_KEY, subscriptions
from .jobs import consume_lab_results, evaluations_metrics, watch_deadlines, watch_planning
from .lab_access import ensure_lab_topics
from .settings import EvaluationsSettings

log = logging.getLogger(__name__)


async def ensure_existing_lab_topics(state: ServiceState) -> None:
    """Labs accredited earlier get their topics back on a fresh Kafka (requests must never hit a missing topic)."""
    settings: EvaluationsSettings = state.settings  # type: ignore[assignment]
    labs = await store.list_labs(state.db)
    try:
        created = await ensure_lab_topics(settings, [lab.lab_id for lab in labs])
    except Exception:  # the relay retries until the topics exist; the service still starts
        log.exception("could not ensure the topics of %d labs", len(labs))
        return
    if created:
        log.info("created lab topics %s", created)


def create_app(settings: EvaluationsSettings | None = None) -> FastAPI:
    settings = settings or EvaluationsSettings.from_env()
    app = build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=[VERIFICATION_OUTCOMES.name, INTAKE_FILINGS.name],
        subscriptions=subscriptions,
        router=router,
        on_started=ensure_existing_lab_topics,
        background=[consume_lab_results, watch_deadlines, watch_planning],
        extra_metrics=evaluations_metrics,
        title="Frontier AI model registry: evaluations",
        description="Accredited labs, evaluation plans, requests on each lab's own topic, results and deadlines.",
    )
    state: ServiceState = app.state.service
    catalogue = load_catalogue()
    catalogue.check_covers_profile(state.profile)  # a profile needing an unknown domain fails at start
    state.extras[CATALOGUE_KEY] = catalogue
    return app
