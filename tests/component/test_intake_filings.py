"""Intake takes all seven filing types, with clear errors, lineage, idempotency and late filings recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from devstack import Infrastructure
from tests.component.intake_support import (
    events_about,
    full_registration,
    hours_ago,
    intake_app,
    intake_rows,
    registrant,
    training_notice,
)
from tests.support import bearer, fresh_organisation, registration, running

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def intake(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running(intake_app(infra, tmp_path_factory.mktemp("intake"))) as (client,):
        yield client


async def _register(intake: httpx.AsyncClient, body: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    body = body or full_registration()
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    assert accepted.status_code == 201, accepted.text
    return body, accepted.json()["registry_id"]


def _fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


async def test_a_training_notice_reserves_a_registry_id_the_registration_then_takes(intake: httpx.AsyncClient) -> None:
    org = fresh_organisation()
    notice = await intake.post(
        "/v1/training-notices", json=training_notice(org, crossed_days_ago=3), headers=registrant(org)
    )
    assert notice.status_code == 201, notice.text
    filed = notice.json()
    assert filed["notice_id"].startswith("TN-") and not filed["late"]
    body = full_registration(org, training_notice_id=filed["notice_id"])
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(org))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["registry_id"] == filed["registry_id"]
    assert await events_about(infra_of(intake), filed["registry_id"]) == [
        "TrainingNoticeFiled",
        "RegistrationSubmitted",
    ]


def infra_of(intake: httpx.AsyncClient) -> Any:
    transport: Any = intake._transport
    return _Infra(transport.app.state.service.settings.database_url)


class _Infra:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url


async def test_a_late_training_notice_is_accepted_and_the_breach_published(intake: httpx.AsyncClient) -> None:
    org = fresh_organisation()
    notice = await intake.post(
        "/v1/training-notices", json=training_notice(org, crossed_days_ago=30), headers=registrant(org)
    )
    assert notice.status_code == 201 and notice.json()["late"] is True
    registry_id = notice.json()["registry_id"]
    assert await events_about(infra_of(intake), registry_id) == ["TrainingNoticeFiled", "LateFilingRecorded"]


async def test_a_registration_filed_too_close_to_deployment_is_late(intake: httpx.AsyncClient) -> None:
    body = full_registration(planned_deployment_date=str(date.today() + timedelta(days=3)))
    _, registry_id = await _register(intake, body)
    assert await events_about(infra_of(intake), registry_id) == ["RegistrationSubmitted", "LateFilingRecorded"]


async def test_training_notice_errors_are_listed(intake: httpx.AsyncClient) -> None:
    org = fresh_organisation()
    body = training_notice(org) | {"planned_training_flop": -5, "chip_count": 0, "planned_start": "yesterday"}
    assert _fields(await intake.post("/v1/training-notices", json=body, headers=registrant(org))) == {
        "planned_training_flop",
        "chip_count",
        "planned_start",
    }


async def test_absurd_registrations_are_refused_with_every_reason(intake: httpx.AsyncClient) -> None:
    body = full_registration()
    body["compute"] |= {"declared_training_flop": -1e25, "parameters": 2e15, "training_end": "2099-01-01"}
    body["access_mode"] = "telepathy"
    fields = _fields(await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"])))
    assert fields == {"compute.declared_training_flop", "compute.parameters", "access_mode"}
    body = full_registration()
    body["compute"]["training_end"] = str(date.today() + timedelta(days=30))
    response = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    assert _fields(response) == {"compute.training_end"}
    assert "in the future" in response.json()["detail"]


async def test_a_small_modification_is_a_new_version_with_lineage(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    base_flop = body["compute"]["declared_training_flop"]
    amendment = {
        "kind": "fine_tune",
        "description": "safety fine-tune",
        "modification_compute": {"declared_training_flop": base_flop / 10},
        "expected_version": 1,
        "changes": {"access_mode": "product"},
    }
    amended = await intake.post(
        f"/v1/registrations/{registry_id}/amendments", json=amendment, headers=registrant(body["developer"])
    )
    assert amended.status_code == 201, amended.text
    assert amended.json() | {"event_id": None, "submitted_at": None} == amended.json() | {
        "outcome": "amendment",
        "registry_id": registry_id,
        "version": 2,
        "base_version": 1,
        "event_id": None,
        "submitted_at": None,
    }
    owner = registrant(body["developer"])
    first = (await intake.get(f"/v1/registrations/{registry_id}/versions/1", headers=owner)).json()
    current = (await intake.get(f"/v1/registrations/{registry_id}", headers=owner)).json()
    assert first["filing"]["access_mode"] == "api" and current["filing"]["access_mode"] == "product"
    assert current["filing"]["base_version"] == 1 and current["current_version"] == 2
    assert await events_about(infra_of(intake), registry_id) == ["RegistrationSubmitted", "AmendmentSubmitted"]
    stale = await intake.post(f"/v1/registrations/{registry_id}/amendments", json=amendment, headers=owner)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2


async def test_a_modification_over_one_third_of_the_base_is_a_new_model(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    owner = registrant(body["developer"])
    big = {
        "kind": "fine_tune",
        "description": "continued pre-training",
        "modification_compute": {"declared_training_flop": body["compute"]["declared_training_flop"] * 0.34},
    }
    path = f"/v1/registrations/{registry_id}/amendments"
    unnamed = await intake.post(path, json=big, headers=owner)
    assert _fields(unnamed) == {"new_model_name"} and "new model" in unnamed.json()["detail"]
    created = await intake.post(path, json=big | {"new_model_name": "bigger"}, headers=owner)
    assert created.status_code == 201, created.text
    new_id = created.json()["registry_id"]
    assert new_id != registry_id and created.json()["outcome"] == "new_model"
    rows = await intake_rows(infra_of(intake), "SELECT payload FROM outbox WHERE aggregateid = $1", new_id)
    assert f'"base_registry_id":"{registry_id}"' in rows[0]["payload"]
    assert f'"base_model_training_flop":{body["compute"]["declared_training_flop"]}' in rows[0]["payload"]


async def test_status_changes_and_an_early_deployment_records_a_late_registration(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    owner = registrant(body["developer"])
    deployed = {"status": "deployed", "markets": ["GB", "US"], "effective_date": str(date.today())}
    response = await intake.post(f"/v1/registrations/{registry_id}/status-changes", json=deployed, headers=owner)
    assert response.status_code == 201, response.text
    assert response.json()["late"] is True
    assert await events_about(infra_of(intake), registry_id) == [
        "RegistrationSubmitted",
        "ModelStatusChanged",
        "LateFilingRecorded",
    ]
    bad = {"status": "exploded", "markets": ["Britain"], "effective_date": "soon"}
    assert _fields(await intake.post(f"/v1/registrations/{registry_id}/status-changes", json=bad, headers=owner)) == {
        "status",
        "markets.0",
        "effective_date",
    }


@pytest.mark.parametrize(("imminent", "hours", "late"), [(True, 30, True), (True, 2, False), (False, 30, False)])
async def test_incident_clocks(intake: httpx.AsyncClient, imminent: bool, hours: float, late: bool) -> None:
    body, registry_id = await _register(intake)
    report = {
        "category": "cyber_misuse",
        "imminent_risk": imminent,
        "discovered_at": hours_ago(hours),
        "narrative": "x",
    }
    response = await intake.post(
        f"/v1/registrations/{registry_id}/incidents", json=report, headers=registrant(body["developer"])
    )
    assert response.status_code == 201, response.text
    assert response.json()["late"] is late
    expected = ["RegistrationSubmitted", "IncidentReported"] + (["LateFilingRecorded"] if late else [])
    assert await events_about(infra_of(intake), registry_id) == expected
    payloads = await intake_rows(infra_of(intake), "SELECT payload FROM outbox WHERE aggregateid = $1", registry_id)
    assert all('"narrative"' not in p["payload"] for p in payloads)


async def test_an_incident_discovered_in_the_future_is_refused(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    report = {"category": "other", "imminent_risk": False, "discovered_at": hours_ago(-48), "narrative": "x"}
    response = await intake.post(
        f"/v1/registrations/{registry_id}/incidents", json=report, headers=registrant(body["developer"])
    )
    assert _fields(response) == {"discovered_at"}


async def test_a_compute_provider_attests_under_the_customer_key(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    customer = body["developer"]
    attestation = {
        "provider_name": "Big Cloud",
        "customer": customer,
        "registry_id": registry_id,
        "chip_type": "H100 SXM",
        "chip_count": 16_000,
        "chip_hours": 16_000 * 1000,
        "period_start": "2025-01-01",
        "period_end": "2025-03-01",
        "utilisation": 0.4,
    }
    provider = bearer("compute_provider", org="big-cloud")
    response = await intake.post("/v1/attestations", json=attestation, headers=provider)
    assert response.status_code == 201, response.text
    assert await events_about(infra_of(intake), f"org:{customer['organisation_id']}") == ["ComputeAttested"]
    refused = await intake.post("/v1/attestations", json=attestation, headers=registrant(customer))
    assert refused.status_code == 403 and "compute_provider" in refused.json()["detail"]
    absurd = attestation | {"chip_hours": 1e13, "chip_type": ""}
    assert _fields(await intake.post("/v1/attestations", json=absurd, headers=provider)) == {"chip_hours", "chip_type"}
    reversed_period = attestation | {"period_end": "2024-01-01"}
    response = await intake.post("/v1/attestations", json=reversed_period, headers=provider)
    assert _fields(response) == {"(body)"} and "period_end is before period_start" in response.json()["detail"]


async def test_usage_reports_need_no_login_and_resolve_registered_models(intake: httpx.AsyncClient) -> None:
    body, registry_id = await _register(intake)
    seen = {
        "model_name": body["model_name"],
        "developer_name": body["developer"]["legal_name"],
        "seen_at": hours_ago(1),
    }
    known = await intake.post("/v1/usage-reports", json=seen)
    assert known.status_code == 201, known.text
    assert known.json()["registered"] is True and known.json()["registry_id"] == registry_id
    unknown = await intake.post(
        "/v1/usage-reports", json=seen | {"model_name": "shadow-model"}, headers=bearer("analyst")
    )
    assert unknown.json()["registered"] is False
    subject = f"unregistered:{body['developer']['legal_name'].lower()}/shadow-model"
    assert await events_about(infra_of(intake), subject) == ["UsageReported"]
    forged = await intake.post("/v1/usage-reports", json=seen, headers={"Authorization": "Bearer nope"})
    assert forged.status_code == 401
    basic = await intake.post("/v1/usage-reports", json=seen, headers={"Authorization": "Basic bm9ib2R5"})
    assert basic.status_code == 401 and "Authorization: Bearer <JWT>" in basic.json()["detail"]
    anonymous = await intake.post("/v1/usage-reports", json=seen | {"model_name": "seen-by-anyone"})
    assert anonymous.status_code == 201, anonymous.text


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/v1/registrations", lambda org: registration(organisation=org)),
        ("/v1/training-notices", lambda org: training_notice(org)),
    ],
)
async def test_concurrent_retries_with_one_key_make_one_record(intake: httpx.AsyncClient, path: str, make: Any) -> None:
    org = fresh_organisation()
    body = make(org)
    headers = {"Idempotency-Key": "same-key", **registrant(org)}
    responses = await asyncio.gather(*(intake.post(path, json=body, headers=headers) for _ in range(6)))
    assert {r.status_code for r in responses} == {201}
    assert all(r.json() == responses[0].json() for r in responses)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 5
    first = responses[0].json()
    created = f"/v1/registrations/{first['registry_id']}" if "registrations" in path else None
    created = created or f"/v1/filings/{first['notice_id']}"
    assert {r.headers["Location"] for r in responses} == {created}  # replays name the same new record
    assert (await intake.get(created, headers=registrant(org))).status_code == 200
    table = "models" if "registrations" in path else "filings"
    rows = await intake_rows(
        infra_of(intake), f"SELECT count(*) AS n FROM {table} WHERE organisation_id = $1", org["organisation_id"]
    )
    assert rows[0]["n"] == 1
    reused = await intake.post(path, json=make(org), headers=headers)
    assert reused.status_code == 422 and reused.json()["title"] == "Idempotency key reused"


async def test_submitted_versions_cannot_be_changed(intake: httpx.AsyncClient) -> None:
    _, registry_id = await _register(intake)
    with pytest.raises(Exception, match="immutable"):
        await intake_rows(infra_of(intake), "UPDATE model_versions SET late = true WHERE registry_id = $1", registry_id)
