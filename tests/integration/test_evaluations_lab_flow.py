"""On real Kafka: ComputeVerified -> a request on the lab's own topic -> the reference lab client answers on its
result topic -> the result is accepted -> EvaluationCompleted on evaluations.outcomes.v1. And overdue requests
are reported by the durable deadline watch of a running service.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from devstack import Infrastructure
from registry_contracts import Envelope, RawEnvelope, new_envelope
from registry_contracts.events.evaluations import EvaluationRequested
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from services.plumbing.service import ServiceState
from tests.component.evaluations_support import fresh_registry_id, lab_body, rows, verified
from tests.support import bearer, eventually, running, service_settings

try:
    from registry_labclient import Evaluation, LabClient
except ImportError:  # not pip-installed: use the checkout (the package lives at labclient/)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "labclient"))
    from registry_labclient import Evaluation, LabClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def evaluations(infra: Infrastructure) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # Its own result group: earlier tests' SIGKILLed members of the shared group would stall its rebalance.
    settings = service_settings(
        EvaluationsSettings,
        infra,
        deadline_poll_seconds=0.5,
        lab_topics_refresh_ms=500,
        lab_results_group=f"lab-results-{uuid.uuid4().hex[:8]}",
    )
    app = create_app(settings)
    async with running(app) as (client,):
        yield app, client


async def _publish(bootstrap: str, topic: str, envelope: Envelope[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, envelope.model_dump_json().encode(), key=envelope.subject.encode())
    finally:
        await producer.stop()


async def _outcomes(bootstrap: str, registry_id: str, wanted: str, *, within: float = 30.0) -> list[RawEnvelope]:
    """Events of `wanted` type for one model on evaluations.outcomes.v1, read from the broker."""
    consumer = AIOKafkaConsumer(
        "evaluations.outcomes.v1",
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[RawEnvelope] = []
    try:

        async def seen() -> list[RawEnvelope]:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    event = RawEnvelope.model_validate_json(record.value or b"")
                    if event.subject == registry_id and event.type == wanted:
                        found.append(event)
            return found

        return await eventually(seen, within=within, what=f"{wanted} for {registry_id}")
    finally:
        await consumer.stop()


async def test_a_verified_model_is_evaluated_by_the_lab_client_over_kafka(
    evaluations: tuple[FastAPI, httpx.AsyncClient], infra: Infrastructure
) -> None:
    app, client = evaluations
    # "0" sorts first, so among equally idle labs of other tests this one is chosen.
    lab_id = f"0{uuid.uuid4().hex[:10]}"
    onboarded = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=bearer("admin"))
    assert onboarded.status_code == 200, onboarded.text
    registry_id = fresh_registry_id()
    await _publish(
        infra.bootstrap_servers,
        "verification.outcomes.v1",
        new_envelope(verified(registry_id), subject=registry_id),
    )

    received: list[EvaluationRequested] = []

    async def evaluate(request: EvaluationRequested) -> Evaluation:
        received.append(request)
        return Evaluation(suite_scores={s.suite_id: s.score_min for s in request.suites}, notes="integration test")

    async with LabClient(lab_id=lab_id, bootstrap_servers=infra.bootstrap_servers) as lab:
        # Answer until cancelled: requests planned from earlier tests' backlog may reach this lab first.
        answered = asyncio.create_task(lab.run(evaluate))
        try:
            completed = await _outcomes(
                infra.bootstrap_servers, registry_id, "registry.evaluations.EvaluationCompleted.v1", within=60
            )
        finally:
            answered.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answered
    mine = [r for r in received if r.registry_id == registry_id]
    assert mine and all(r.model_name == f"model-{registry_id}" for r in mine)
    assert completed[0].data["lab_id"] == lab_id and completed[0].data["late"] is False
    state: ServiceState = app.state.service
    submissions = await rows(
        state.settings.database_url,
        "SELECT via, accepted FROM lab_submissions WHERE lab_id = $1 AND request_id = $2",
        lab_id,
        completed[0].data["request_id"],
    )
    assert submissions == [{"via": "kafka", "accepted": True}]


async def test_the_running_service_reports_an_overdue_request_once(
    evaluations: tuple[FastAPI, httpx.AsyncClient], infra: Infrastructure
) -> None:
    app, _ = evaluations
    state: ServiceState = app.state.service
    assert state.consumer is not None
    registry_id = fresh_registry_id()
    from tests.component.evaluations_support import verified_message

    await state.consumer.process(verified_message(registry_id))
    past = datetime.now(UTC) - timedelta(hours=1)
    overdue = await rows(
        state.settings.database_url,
        "UPDATE evaluation_requests SET deadline = $2, request = jsonb_set(request, '{deadline}', to_jsonb($3::text))"
        " WHERE request_id = (SELECT min(request_id) FROM evaluation_requests WHERE registry_id = $1)"
        " RETURNING request_id",
        registry_id,
        past,
        past.isoformat(),
    )
    missed = await _outcomes(infra.bootstrap_servers, registry_id, "registry.evaluations.EvaluationDeadlineMissed.v1")
    assert [m.data["request_id"] for m in missed] == [overdue[0]["request_id"]]
