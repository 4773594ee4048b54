"""Evaluations' HTTP API: the lab registry (admin only) and the lab-scoped HTTP fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from devstack import Infrastructure
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from services.plumbing.service import ServiceState
from tests.component.evaluations_support import fresh_lab_id, fresh_registry_id, lab_body, rows, verified_message
from tests.support import bearer, running, service_settings

pytestmark = pytest.mark.component
ADMIN = bearer("admin")


@pytest.fixture(scope="module")
async def service(infra: Infrastructure) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(service_settings(EvaluationsSettings, infra, deadline_poll_seconds=3600))
    async with running(app) as (client,):
        yield app, client


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_onboarding_a_lab_creates_its_topics_and_is_idempotent(service: Any, infra: Infrastructure) -> None:
    _, client = service
    lab_id = fresh_lab_id()
    first = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=ADMIN)
    assert first.status_code == 200, first.text
    kafka = first.json()["kafka"]
    assert kafka["request_topic"] == f"evaluations.requests.{lab_id}.v1"
    assert kafka["result_topic"] == f"labs.{lab_id}.results.v1"
    assert kafka["consumer_group"] == f"lab-{lab_id}"
    assert {kafka["request_topic"], kafka["result_topic"]} <= await _topics(infra.bootstrap_servers)
    again = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id, capacity=3), headers=ADMIN)
    assert again.status_code == 200 and again.json()["capacity"] == 3


async def test_only_an_admin_manages_labs_and_bad_fields_are_all_listed(service: Any) -> None:
    _, client = service
    lab_id = fresh_lab_id()
    refused = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=bearer("officer"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id))).status_code == 401
    bad = await client.put(
        f"/v1/labs/{lab_id}", json=lab_body(lab_id, capacity=-1, domains=[], accredited="maybe"), headers=ADMIN
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"capacity", "domains", "accredited"}
    mismatch = await client.put(f"/v1/labs/{lab_id}", json=lab_body("other-lab"), headers=ADMIN)
    assert mismatch.status_code == 422 and "differs from the path" in mismatch.json()["detail"]


async def test_a_lab_can_be_suspended_and_reinstated(service: Any) -> None:
    _, client = service
    lab_id = fresh_lab_id("aaa")
    (await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=ADMIN)).raise_for_status()
    suspended = await client.post(f"/v1/labs/{lab_id}/suspension", json={"reason": "audit findings"}, headers=ADMIN)
    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    assert (await client.post(f"/v1/labs/{lab_id}/suspension", json={}, headers=ADMIN)).status_code == 422
    reinstated = await client.delete(f"/v1/labs/{lab_id}/suspension", headers=ADMIN)
    assert reinstated.json()["suspended"] is False and reinstated.json()["suspension_reason"] is None
    missing = await client.post("/v1/labs/no-such-lab/suspension", json={"reason": "x"}, headers=ADMIN)
    assert missing.status_code == 404


async def _planned_request(app: FastAPI) -> dict[str, Any]:
    state: ServiceState = app.state.service
    assert state.consumer is not None
    registry_id = fresh_registry_id()
    await state.consumer.process(verified_message(registry_id))
    found = await rows(
        state.settings.database_url,
        "SELECT request_id, lab_id, registry_id, version, request FROM evaluation_requests WHERE registry_id = $1"
        " ORDER BY domain LIMIT 1",
        registry_id,
    )
    return found[0]


async def test_the_http_fallback_serves_only_the_labs_own_requests_and_accepts_its_results(service: Any) -> None:
    app, client = service
    request = await _planned_request(app)
    lab_id = request["lab_id"]
    own = bearer("lab", lab=lab_id)
    listed = await client.get(f"/v1/labs/{lab_id}/requests", headers=own)
    assert listed.status_code == 200
    mine = next(r for r in listed.json() if r["request_id"] == request["request_id"])
    assert "developer" not in mine and "compute" not in mine
    other = bearer("lab", lab="someone-else")
    assert (await client.get(f"/v1/labs/{lab_id}/requests", headers=other)).status_code == 403

    scores = {s["suite_id"]: s["score_min"] for s in mine["suites"]}
    body = {
        "request_id": request["request_id"],
        "registry_id": request["registry_id"],
        "version": request["version"],
        "suite_scores": scores,
    }
    assert (await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=other)).status_code == 403
    stranger = fresh_lab_id()
    (await client.put(f"/v1/labs/{stranger}", json=lab_body(stranger), headers=ADMIN)).raise_for_status()
    foreign = await client.post(f"/v1/labs/{stranger}/results", json=body, headers=bearer("lab", lab=stranger))
    assert foreign.status_code == 404  # not "assigned elsewhere": a lab learns nothing of others' requests

    headers = {**own, "Idempotency-Key": "result-1"}
    accepted = await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["accepted"] is True and accepted.json()["domain_outcome"] in ("pass", "concern", "fail")
    retried = await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=headers)
    assert retried.status_code == 201 and retried.json() == accepted.json()
    duplicate = await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=own)
    assert duplicate.status_code == 409 and duplicate.json()["rejection"] == "duplicate"


async def test_a_bad_result_is_refused_with_the_reason_and_kept(service: Any) -> None:
    app, client = service
    request = await _planned_request(app)
    lab_id = request["lab_id"]
    body = {
        "request_id": request["request_id"],
        "registry_id": request["registry_id"],
        "version": request["version"],
        "suite_scores": {"not-a-suite": 0.1},
    }
    refused = await client.post(f"/v1/labs/{lab_id}/results", json=body, headers=bearer("lab", lab=lab_id))
    assert refused.status_code == 422 and refused.json()["rejection"] == "unknown_suite"
    state: ServiceState = app.state.service
    kept = await rows(
        state.settings.database_url,
        "SELECT accepted FROM lab_submissions WHERE submission_id = $1::uuid",
        refused.json()["submission_id"],
    )
    assert kept == [{"accepted": False}]
    malformed = await client.post(
        f"/v1/labs/{lab_id}/results", json={"request_id": "", "version": 0}, headers=bearer("lab", lab=lab_id)
    )
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} == {"request_id", "registry_id", "version"}
