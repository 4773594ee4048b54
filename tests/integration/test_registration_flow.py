"""One filing through all four services, in-process, on real Kafka and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from services.enforcement.app import create_app as enforcement_app
from services.enforcement.settings import EnforcementSettings
from services.evaluations.app import create_app as evaluations_app
from services.evaluations.settings import EvaluationsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.verification.app import create_app as verification_app
from services.verification.settings import VerificationSettings
from tests.support import as_registrant, bearer, eventually, registration, running, service_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def registry(infra: Infrastructure) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    apps = [
        intake_app(service_settings(IntakeSettings, infra)),
        verification_app(service_settings(VerificationSettings, infra)),
        evaluations_app(service_settings(EvaluationsSettings, infra)),
        enforcement_app(service_settings(EnforcementSettings, infra)),
    ]
    async with running(*apps) as clients:
        intake, verification, evaluations, enforcement = clients
        for staff_facing in (verification, evaluations, enforcement):
            staff_facing.headers.update(bearer("officer"))
        lab = {
            "lab_id": "flow-test-lab",
            "name": "Flow Test Lab",
            "accredited": True,
            "accredited_until": "2030-01-01",
            "domains": ["chem_bio", "cyber_offence", "autonomy_ai_rnd", "persuasion", "safeguard_robustness"],
            "capacity": 10_000,
            "affiliations": [],
        }
        (await evaluations.put("/v1/labs/flow-test-lab", json=lab, headers=bearer("admin"))).raise_for_status()
        yield {"intake": intake, "verification": verification, "evaluations": evaluations, "enforcement": enforcement}


async def _json_when_found(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    return response.json() if response.status_code == 200 and response.json() else None


async def test_an_understated_registration_is_verified_planned_and_becomes_a_case(registry: dict) -> None:
    body = registration(understated_by=10)
    accepted = await registry["intake"].post("/v1/registrations", json=body, headers=as_registrant(body))
    assert accepted.status_code == 201, accepted.text
    registry_id = accepted.json()["registry_id"]

    async def verified() -> Any:
        return await _json_when_found(registry["verification"], f"/v1/verifications/{registry_id}")

    outcome = (await eventually(verified, what="verification"))["verifications"][0]
    assert outcome["status"] == "discrepancy"
    assert "exceeds it by 10x" in outcome["outcome"]["event"]["explanation"]

    async def planned() -> Any:
        return await _json_when_found(registry["evaluations"], f"/v1/plans/{registry_id}")

    plans = await eventually(planned, what="evaluation plan")
    # 6 x 70e9 x 15e12 = 6.3e24 FLOP estimated: near the 1e25 threshold, so no evaluation is required yet.
    assert plans["plans"][0]["tier"] in ("near_threshold", "below")

    async def case() -> Any:
        return await _json_when_found(registry["enforcement"], f"/v1/cases?registry_id={registry_id}")

    cases = await eventually(case, what="enforcement case")
    assert [c["rule"] for c in cases] == ["compute_discrepancy"]

    async def under_review() -> Any:
        record = (await registry["intake"].get(f"/v1/registrations/{registry_id}", headers=as_registrant(body))).json()
        return record if record["standing"] == "under_review" else None

    await eventually(under_review, what="standing to follow the case")


async def test_an_honest_frontier_registration_gets_the_full_evaluation_plan_and_no_case(registry: dict) -> None:
    body = registration(parameters=405e9, tokens=45e12)  # 1.1e26 FLOP: frontier
    accepted = await registry["intake"].post("/v1/registrations", json=body, headers=as_registrant(body))
    registry_id = accepted.json()["registry_id"]

    async def decided() -> Any:
        return await _json_when_found(registry["enforcement"], f"/v1/decisions/{registry_id}")

    decisions = await eventually(decided, what="enforcement decision")
    assert [d["decision"] for d in decisions] == ["no_action"]

    async def planned() -> Any:
        return await _json_when_found(registry["evaluations"], f"/v1/plans/{registry_id}")

    plans = await eventually(planned, what="evaluation plan")
    assert plans["plans"][0]["tier"] == "frontier"
    assert sorted(r["domain"] for r in plans["requests"]) == [
        "autonomy_ai_rnd",
        "chem_bio",
        "cyber_offence",
        "persuasion",
        "safeguard_robustness",
    ]
    assert (await registry["enforcement"].get(f"/v1/cases?registry_id={registry_id}")).json() == []


async def test_a_retried_registration_returns_the_first_answer(registry: dict) -> None:
    body = registration()
    headers = {"Idempotency-Key": "retry-1", **as_registrant(body)}
    first = await registry["intake"].post("/v1/registrations", json=body, headers=headers)
    second = await registry["intake"].post("/v1/registrations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"


async def test_bad_input_lists_every_bad_field(registry: dict) -> None:
    body = registration()
    body["compute"]["declared_training_flop"] = -1
    body["compute"]["parameters"] = 1e16
    response = await registry["intake"].post("/v1/registrations", json=body, headers=as_registrant(body))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"compute.declared_training_flop", "compute.parameters"}


async def test_calls_without_a_valid_token_are_refused_clearly(registry: dict) -> None:
    body = registration()
    missing = await registry["intake"].post("/v1/registrations", json=body)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert "bearer token is required" in missing.json()["detail"]
    forged = await registry["intake"].post(
        "/v1/registrations", json=body, headers={"Authorization": "Bearer not.a.token"}
    )
    assert forged.status_code == 401 and "invalid token" in forged.json()["detail"]
    wrong_role = await registry["intake"].post("/v1/registrations", json=body, headers=bearer("analyst"))
    assert wrong_role.status_code == 403 and "registrant" in wrong_role.json()["detail"]


async def test_a_registrant_cannot_file_for_or_read_another_organisation(registry: dict) -> None:
    body = registration()
    other = bearer("registrant", org="someone-else")
    refused = await registry["intake"].post("/v1/registrations", json=body, headers=other)
    assert refused.status_code == 403 and "someone-else" in refused.json()["detail"]
    accepted = await registry["intake"].post("/v1/registrations", json=body, headers=as_registrant(body))
    registry_id = accepted.json()["registry_id"]
    guessed = await registry["intake"].get(f"/v1/registrations/{registry_id}", headers=other)
    missing = await registry["intake"].get("/v1/registrations/FMR-1999-999999", headers=other)
    assert guessed.status_code == missing.status_code == 404
    assert guessed.json()["title"] == missing.json()["title"] == "Not found"
    own = await registry["intake"].get(f"/v1/registrations/{registry_id}", headers=as_registrant(body))
    assert own.status_code == 200 and own.json()["registry_id"] == registry_id
