"""Intake's wiring: its migrations, subscriptions, keys and API on the shared service runtime."""

from __future__ import annotations

from pathlib import Path

from registry_contracts.topics import ENFORCEMENT_CASES, ENFORCEMENT_STANDING
from services.plumbing.service import ServiceApp, ServiceState, build_service_app

from .api import router
from .fastpath import AnswerCache, StandingFastPath, follow_answer_changes
from .handlers import subscriptions
from .keys import restricted_sealer, signing_key
from .settings import IntakeSettings
from .signing import StandingSigner


def create_app(settings: IntakeSettings | None = None) -> ServiceApp:
    settings = settings or IntakeSettings.from_env()
    app = build_service_app(
        settings,
        migrations=Path(__file__).parent / "migrations",
        topics=[ENFORCEMENT_CASES.name, ENFORCEMENT_STANDING.name],
        subscriptions=subscriptions,
        router=router,
        background=[follow_answer_changes],
        title="Frontier AI model registry: intake",
        description="Filings from developers, compute providers and third parties; public standing lookups.",
    )
    state: ServiceState = app.state.service
    # Keys are loaded when the app is built: a bad key fails start-up, not the first filing.
    state.extras["sealer"] = restricted_sealer(settings.intake_restricted_key)
    state.extras["signer"] = StandingSigner(signing_key(settings.intake_signing_key_file))
    state.extras["answer_cache"] = AnswerCache(settings.intake_lookup_cache_seconds)
    app.front_door = StandingFastPath(state)
    return app
