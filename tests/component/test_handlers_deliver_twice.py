"""Every handler, delivered the same event twice, has one effect (inbox dedupe in the handler's transaction)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import (
    CaseOpened,
    ComputeEstimate,
    ComputeInputs,
    ComputeVerified,
    Developer,
    RegistrationSubmitted,
    Tier,
    VerificationStatus,
    new_envelope,
)
from services.enforcement.app import create_app as enforcement_app
from services.enforcement.settings import EnforcementSettings
from services.evaluations.app import create_app as evaluations_app
from services.evaluations.settings import EvaluationsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.plumbing.inbox import Disposition, IncomingMessage
from services.plumbing.service import ServiceState
from services.verification.app import create_app as verification_app
from services.verification.settings import VerificationSettings
from tests.support import running, service_settings

pytestmark = pytest.mark.component
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _registry_id() -> str:
    return f"TEST-{uuid.uuid4().hex[:12]}"


def _developer() -> Developer:
    return Developer(organisation_id=f"org-{uuid.uuid4().hex[:8]}", legal_name="Twice Ltd", country="GB")


def _message(envelope: Any, topic: str) -> IncomingMessage:
    return IncomingMessage(
        topic=topic,
        partition=0,
        offset=1,
        key=envelope.subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers={},
    )


async def _deliver_twice(app: FastAPI, message: IncomingMessage) -> ServiceState:
    async with running(app):
        state: ServiceState = app.state.service
        assert state.consumer is not None
        assert await state.consumer.process(message) is Disposition.PROCESSED
        assert await state.consumer.process(message) is Disposition.DUPLICATE
        return state


async def _count(state: ServiceState, sql: str, *args: Any) -> int:
    # The pool is closed after the app stops; open a short-lived connection through a fresh pool.
    import asyncpg

    conn = await asyncpg.connect(state.settings.database_url, server_settings={"search_path": state.settings.db_schema})
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def _verified(registry_id: str, *, status: VerificationStatus, estimate: float) -> ComputeVerified:
    return ComputeVerified(
        registry_id=registry_id,
        version=1,
        developer=_developer(),
        model_name="twice",
        status=status,
        declared_training_flop=1e24,
        estimates=[ComputeEstimate(method="architecture", flop=estimate, low_flop=estimate, high_flop=estimate)],
        tolerance_factor=2.0,
        threshold_flop=1e25,
        declared_tier=Tier.NEAR_THRESHOLD,
        verified_tier=Tier.REPORTABLE,
        explanation="Declared 1e24 FLOP; the architecture estimate exceeds it by 20x.",
        verified_at=NOW,
        rule_profile_id="baseline-2026-01",
    )


async def test_verification_twice_one_outcome(infra: Infrastructure) -> None:
    registry_id = _registry_id()
    filing = RegistrationSubmitted(
        registry_id=registry_id,
        version=1,
        developer=_developer(),
        model_name="twice",
        compute=ComputeInputs(declared_training_flop=6.3e24, parameters=70e9, training_tokens=15e12),
        submitted_at=NOW,
        rule_profile_id="baseline-2026-01",
    )
    envelope = new_envelope(filing, subject=registry_id)
    state = await _deliver_twice(
        verification_app(service_settings(VerificationSettings, infra)), _message(envelope, "intake.filings.v1")
    )
    assert await _count(state, "SELECT count(*) FROM verifications WHERE registry_id = $1", registry_id) == 1
    assert await _count(state, "SELECT count(*) FROM outbox WHERE aggregateid = $1", registry_id) == 1


async def test_evaluations_twice_one_plan(infra: Infrastructure) -> None:
    registry_id = _registry_id()
    envelope = new_envelope(
        _verified(registry_id, status=VerificationStatus.CONSISTENT, estimate=2e26), subject=registry_id
    )
    state = await _deliver_twice(
        evaluations_app(service_settings(EvaluationsSettings, infra)), _message(envelope, "verification.outcomes.v1")
    )
    assert await _count(state, "SELECT count(*) FROM plans WHERE registry_id = $1", registry_id) == 1
    plans_published = "SELECT count(*) FROM outbox WHERE aggregateid = $1 AND aggregatetype = 'evaluations.plans.v1'"
    assert await _count(state, plans_published, registry_id) == 1


async def test_enforcement_twice_one_case(infra: Infrastructure) -> None:
    registry_id = _registry_id()
    envelope = new_envelope(
        _verified(registry_id, status=VerificationStatus.DISCREPANCY, estimate=2e25), subject=registry_id
    )
    state = await _deliver_twice(
        enforcement_app(service_settings(EnforcementSettings, infra)), _message(envelope, "verification.outcomes.v1")
    )
    assert await _count(state, "SELECT count(*) FROM cases WHERE registry_id = $1", registry_id) == 1
    assert await _count(state, "SELECT count(*) FROM decisions WHERE registry_id = $1", registry_id) == 1
    assert (
        await _count(
            state,
            "SELECT count(*) FROM case_timeline t JOIN cases c USING (case_id) WHERE c.registry_id = $1",
            registry_id,
        )
        == 1
    )
    # CaseOpened, and StandingChanged (under review): once each.
    assert await _count(state, "SELECT count(*) FROM outbox WHERE aggregateid = $1", registry_id) == 2


async def test_intake_twice_one_standing_change(infra: Infrastructure) -> None:
    registry_id = _registry_id()
    opened = CaseOpened(
        case_id=f"ENF-{uuid.uuid4().hex[:8]}",
        registry_id=registry_id,
        rule="compute_discrepancy",
        summary="understated",
        opened_at=NOW,
        evidence_event_id=str(uuid.uuid4()),
    )
    envelope = new_envelope(opened, subject=registry_id)
    state = await _deliver_twice(
        intake_app(service_settings(IntakeSettings, infra)), _message(envelope, "enforcement.cases.v1")
    )
    assert await _count(state, "SELECT count(*) FROM standing_cases WHERE registry_id = $1", registry_id) == 1
