"""Filings through intake (in-process, real HTTP handlers) to verification over real Kafka and PostgreSQL, and the
ComputeVerified events verification publishes, read back from Kafka: registration, amendment, attestation, and the
regulator's designation of a model (a ModelDesignationChanged on intake.filings.v1)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack import Infrastructure
from registry_contracts import new_envelope
from registry_contracts.events.intake import ModelDesignationChanged
from registry_contracts.topics import INTAKE_FILINGS, VERIFICATION_OUTCOMES
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.verification.app import create_app as verification_app
from services.verification.settings import VerificationSettings
from tests.support import bearer, eventually, running, service_settings

pytestmark = pytest.mark.integration
PARAMETERS, TOKENS = 70e9, 15e12
DECLARED = 6 * PARAMETERS * TOKENS  # 6.3e24 FLOP, exactly the architecture estimate
ATTESTED = 1e7 * 3600 * 989.4e12 * 0.4  # 1e7 H100 chip-hours at 0.4 utilisation: 1.42e25 FLOP, 2.3x declared


@pytest.fixture(scope="module")
async def registry(infra: Infrastructure) -> AsyncIterator[dict[str, Any]]:
    apps = [
        intake_app(service_settings(IntakeSettings, infra)),
        verification_app(service_settings(VerificationSettings, infra)),
    ]
    consumer = AIOKafkaConsumer(
        VERIFICATION_OUTCOMES.name, bootstrap_servers=infra.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with running(*apps) as (intake, verification):
            verification.headers.update(bearer("officer"))
            yield {"intake": intake, "verification": verification, "outcomes": consumer, "infra": infra}
    finally:
        await consumer.stop()


def _published(consumer: AIOKafkaConsumer, registry_id: str, seen: list[dict[str, Any]]) -> Any:
    async def check() -> list[dict[str, Any]]:
        batches = await consumer.getmany(timeout_ms=200)
        for records in batches.values():
            seen.extend(json.loads(r.value) for r in records if r.key == registry_id.encode())
        return seen

    return check


async def test_registration_amendment_and_attestation_each_publish_a_verification(registry: dict[str, Any]) -> None:
    intake: httpx.AsyncClient = registry["intake"]
    suffix = uuid.uuid4().hex[:8]
    developer = {"organisation_id": f"org-{suffix}", "legal_name": f"Flow {suffix} Ltd", "country": "GB"}
    registrant = bearer("registrant", org=developer["organisation_id"])
    body = {
        "developer": developer,
        "model_name": f"flow-{suffix}",
        "compute": {
            "declared_training_flop": DECLARED,
            "parameters": PARAMETERS,
            "training_tokens": TOKENS,
            "epochs": 1,
            "training_start": "2026-01-01",
            "training_end": "2026-03-01",
            "cluster_id": "eu-1",
        },
    }
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant)
    assert accepted.status_code == 201, accepted.text
    registry_id = accepted.json()["registry_id"]
    seen: list[dict[str, Any]] = []
    check = _published(registry["outcomes"], registry_id, seen)
    await eventually(check, what="the registration's ComputeVerified on Kafka")

    amendment = {
        "kind": "fine_tune",
        "description": "instruction tuning",
        "modification_compute": {"declared_training_flop": 1e23},
        "expected_version": 1,
    }
    amended = await intake.post(f"/v1/registrations/{registry_id}/amendments", json=amendment, headers=registrant)
    assert amended.status_code == 201, amended.text

    async def two() -> list[dict[str, Any]] | None:
        events = await check()
        return events if len(events) >= 2 else None

    # The attestation travels on another partition (keyed by its customer), so it could overtake the
    # amendment and become evidence for version 2 too: this test wants each judged in turn.
    await eventually(two, what="the amendment's ComputeVerified on Kafka")
    attestation = {
        "provider_name": "Cloud One",
        "customer": developer,
        "chip_type": "NVIDIA H100 SXM5 80GB",
        "chip_hours": 1e7,
        "period_start": "2026-01-01",
        "period_end": "2026-03-01",
        "cluster_id": "eu-1",
        "utilisation": 0.4,
    }
    provider = bearer("compute_provider", org=f"cloud-{suffix}")
    attested = await intake.post("/v1/attestations", json=attestation, headers=provider)
    assert attested.status_code == 201, attested.text

    async def three() -> list[dict[str, Any]] | None:
        events = await check()
        return events if len(events) >= 3 else None

    events = [e["data"] for e in await eventually(three, what="three ComputeVerified events on Kafka")]
    summary = [(e["version"], e["run"], e["trigger"], e["status"]) for e in events]
    assert summary == [
        (1, 1, "filing", "consistent"),
        (2, 1, "amendment", "consistent"),
        (1, 2, "attestation", "discrepancy"),
    ]
    reverified = events[2]
    attested_estimate = next(e for e in reverified["estimates"] if e["method"] == "attestation")
    assert attested_estimate["flop"] == pytest.approx(ATTESTED)
    assert reverified["verified_tier"] == "reportable" and reverified["threshold_flop"] == 1e25
    assert "crosses the 1e25 reportable threshold" in reverified["explanation"]

    # The same runs over HTTP, with the attestation's use recorded.
    runs = (await registry["verification"].get(f"/v1/verifications/{registry_id}")).json()["verifications"]
    assert [(r["version"], r["run"]) for r in runs] == [(1, 1), (1, 2), (2, 1)]
    listed = await registry["verification"].get(
        "/v1/attestations", params={"organisation_id": developer["organisation_id"]}
    )
    assert listed.json()["attestations"][0]["used_by"] == [{"registry_id": registry_id, "version": 1, "run": 2}]


async def test_a_designation_on_kafka_makes_a_model_below_the_thresholds_reportable(registry: dict[str, Any]) -> None:
    intake: httpx.AsyncClient = registry["intake"]
    suffix = uuid.uuid4().hex[:8]
    developer = {"organisation_id": f"org-{suffix}", "legal_name": f"Designated {suffix} Ltd", "country": "GB"}
    body = {
        "developer": developer,
        "model_name": f"small-{suffix}",
        "compute": {"declared_training_flop": 6 * 7e9 * TOKENS, "parameters": 7e9, "training_tokens": TOKENS},
    }  # 6.3e23 FLOP: below every threshold
    accepted = await intake.post(
        "/v1/registrations", json=body, headers=bearer("registrant", org=developer["organisation_id"])
    )
    assert accepted.status_code == 201, accepted.text
    registry_id = accepted.json()["registry_id"]
    seen: list[dict[str, Any]] = []
    check = _published(registry["outcomes"], registry_id, seen)
    (filed,) = await eventually(check, what="the registration's ComputeVerified on Kafka")
    assert (filed["data"]["trigger"], filed["data"]["verified_tier"]) == ("filing", "below")

    decision = ModelDesignationChanged(
        registry_id=registry_id,
        designation_id=f"DES-{suffix}",
        designated=True,
        reason="systemic reach across the EU market",
        decided_by="officer-1",
        decided_at=datetime.now(UTC),
        rule_profile_id="baseline-2026-01",
    )
    producer = AIOKafkaProducer(bootstrap_servers=registry["infra"].bootstrap_servers, acks="all")
    await producer.start()
    try:
        envelope = new_envelope(decision, subject=registry_id)
        await producer.send_and_wait(INTAKE_FILINGS.name, envelope.model_dump_json().encode(), key=registry_id.encode())
    finally:
        await producer.stop()

    async def two() -> list[dict[str, Any]] | None:
        events = await check()
        return events if len(events) >= 2 else None

    designated = (await eventually(two, what="the designation's ComputeVerified on Kafka"))[1]
    assert designated["causationid"] == str(envelope.id)
    data = designated["data"]
    assert (data["version"], data["run"], data["trigger"]) == (1, 2, "designation")
    assert (data["declared_tier"], data["verified_tier"]) == ("reportable", "reportable")
    assert f"designated by the regulator (DES-{suffix} by officer-1" in data["explanation"]
