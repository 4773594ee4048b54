"""Intake on real Kafka and PostgreSQL: late filings reach intake.filings.v1, standing follows enforcement."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack import Infrastructure
from registry_contracts import new_envelope
from registry_contracts.events.enforcement import Standing, StandingChanged
from tests.component.intake_support import full_registration, intake_app, registrant
from tests.support import eventually, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def intake(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running(intake_app(infra, tmp_path_factory.mktemp("intake-kafka"))) as (client,):
        yield client


async def _events_on_kafka(infra: Infrastructure, subject: str, count: int) -> list[dict[str, Any]]:
    # No group: the consumer takes every partition of the topic and reads it from the start.
    consumer = AIOKafkaConsumer(
        "intake.filings.v1", bootstrap_servers=infra.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        found: list[dict[str, Any]] = []

        async def enough() -> list[dict[str, Any]] | None:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                found.extend(json.loads(r.value) for r in records if r.key == subject.encode())
            return found if len(found) >= count else None

        return await eventually(enough, what=f"{count} events about {subject} on intake.filings.v1")
    finally:
        await consumer.stop()


async def test_a_late_registration_reaches_kafka_with_its_late_filing_record(
    infra: Infrastructure, intake: httpx.AsyncClient
) -> None:
    body = full_registration(planned_deployment_date=str(date.today() + timedelta(days=2)))
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    registry_id = accepted.json()["registry_id"]
    events = await _events_on_kafka(infra, registry_id, 2)
    assert [e["type"] for e in events] == [
        "registry.intake.RegistrationSubmitted.v1",
        "registry.intake.LateFilingRecorded.v1",
    ]
    late = events[1]["data"]
    assert late["filing_kind"] == "registration" and late["filed_at"] > late["due_at"]
    assert events[1]["correlationid"] == events[0]["id"]
    assert "security_of_weights" not in json.dumps(events)


async def test_public_standing_follows_enforcement_standing_events(
    infra: Infrastructure, intake: httpx.AsyncClient
) -> None:
    body = full_registration()
    accepted = await intake.post("/v1/registrations", json=body, headers=registrant(body["developer"]))
    registry_id = accepted.json()["registry_id"]
    change = StandingChanged(
        registry_id=registry_id,
        standing=Standing.SUSPENDED,
        reasons=["suspension ordered in case ENF-7"],
        case_ids=["ENF-7"],
        effective_at=datetime.now(UTC),
    )
    envelope = new_envelope(change, subject=registry_id, event_id=uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            "enforcement.standing.v1", envelope.model_dump_json().encode(), key=registry_id.encode()
        )
    finally:
        await producer.stop()

    async def suspended() -> dict[str, Any] | None:
        answer = (await intake.get(f"/v1/public/standing/{registry_id}")).json()
        return answer if answer["answer"]["standing"] == "suspended" else None

    answer = await eventually(suspended, what="the public standing to become suspended")
    assert answer["answer"]["reasons"] == ["suspension ordered in case ENF-7"]
