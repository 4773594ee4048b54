"""What evaluations makes of verification's designation runs (ComputeVerified with trigger "designation"): it plans
the domains the higher tier requires, and a second designation run of the same version re-requests nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import Tier
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from services.plumbing.inbox import Disposition
from services.plumbing.service import ServiceState
from tests.component.evaluations_support import fresh_lab_id, fresh_registry_id, lab_body, rows, verified_message
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def evaluations(infra: Infrastructure) -> AsyncIterator[FastAPI]:
    app = create_app(service_settings(EvaluationsSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        lab_id = fresh_lab_id()
        (await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=bearer("admin"))).raise_for_status()
        yield app


async def _deliver(app: FastAPI, registry_id: str, tier: Tier, trigger: str) -> None:
    state: ServiceState = app.state.service
    assert state.consumer is not None
    incoming = verified_message(registry_id, tier=tier, trigger=trigger)  # a fresh event id each time
    assert await state.consumer.process(incoming) is Disposition.PROCESSED


async def _requests(app: FastAPI, registry_id: str) -> list[dict[str, Any]]:
    state: ServiceState = app.state.service
    return await rows(
        state.settings.database_url,
        "SELECT request_id, domain, version, status FROM evaluation_requests WHERE registry_id = $1 ORDER BY domain",
        registry_id,
    )


async def test_a_designation_run_plans_what_the_higher_tier_requires_once(evaluations: FastAPI) -> None:
    app = evaluations
    registry_id = fresh_registry_id()
    await _deliver(app, registry_id, Tier.BELOW, "filing")
    assert await _requests(app, registry_id) == []  # below: no evaluations required

    await _deliver(app, registry_id, Tier.REPORTABLE, "designation")
    designated = await _requests(app, registry_id)
    reportable = ["chem_bio", "cyber_offence", "safeguard_robustness"]  # baseline-2026-01's reportable tier
    assert [(r["domain"], r["version"], r["status"]) for r in designated] == [(d, 1, "open") for d in reportable]

    # Revoked, then designated again: the same version's requests exist, none is requested twice.
    await _deliver(app, registry_id, Tier.BELOW, "designation")
    await _deliver(app, registry_id, Tier.REPORTABLE, "designation")
    again = await _requests(app, registry_id)
    assert [(r["request_id"], r["domain"]) for r in again] == [(r["request_id"], r["domain"]) for r in designated]


async def test_new_evidence_after_a_designation_adds_only_the_missing_domains(evaluations: FastAPI) -> None:
    app = evaluations
    registry_id = fresh_registry_id()
    await _deliver(app, registry_id, Tier.BELOW, "filing")
    await _deliver(app, registry_id, Tier.REPORTABLE, "designation")
    before = {r["request_id"] for r in await _requests(app, registry_id)}
    await _deliver(app, registry_id, Tier.FRONTIER, "attestation")
    after = await _requests(app, registry_id)
    assert len(after) == 5 and before < {r["request_id"] for r in after}
    assert sorted(r["domain"] for r in after if r["request_id"] not in before) == ["autonomy_ai_rnd", "persuasion"]
