"""The evaluations service as a real subprocess, killed with SIGKILL: a deadline that passes while it is down
is reported once after the restart, and a lab result sent while it is down is judged after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devstack import Infrastructure
from devstack.services import ServiceProcess, kill_service, start_service, stop_services, wait_ready
from registry_contracts import Envelope, new_envelope
from registry_contracts.events.evaluations import EvaluationRequested
from tests.component.evaluations_support import fresh_registry_id, lab_body, verified
from tests.conftest import SERVICE_PORTS, TEST_STATE
from tests.support import bearer, eventually

try:
    from registry_labclient import Evaluation, LabClient, result_for
except ImportError:  # not pip-installed: use the checkout (the package lives at labclient/)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "labclient"))
    from registry_labclient import Evaluation, LabClient, result_for

pytestmark = pytest.mark.e2e
URL = f"http://127.0.0.1:{SERVICE_PORTS['evaluations']}"


def _start(infra: Infrastructure) -> ServiceProcess:
    return start_service(
        "evaluations",
        state_dir=TEST_STATE,
        database_url=infra.database_url,
        bootstrap_servers=infra.bootstrap_servers,
        port=SERVICE_PORTS["evaluations"],
        extra_env={"OUTBOX_POLL_SECONDS": "0.2", "DEADLINE_POLL_SECONDS": "0.5", "LAB_TOPICS_REFRESH_MS": "500"},
    )


@pytest.fixture(scope="module")
def evaluations(infra: Infrastructure) -> Iterator[ServiceProcess]:
    process = _start(infra)
    wait_ready([process])
    yield process
    stop_services(TEST_STATE, ["evaluations"])


async def _query(database_url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "evaluations"})
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _the_only_lab_taking_requests(lab_id: str) -> AsyncIterator[None]:
    """Other tests' idle labs share the database; load balancing would spread this test's requests over
    them, so they are suspended for the duration (and reinstated after)."""
    admin = bearer("admin")
    async with httpx.AsyncClient(base_url=URL, timeout=10, headers=admin) as client:
        response = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id))
        assert response.status_code == 200, response.text
        labs = (await client.get("/v1/labs")).json()
        others = [lab["lab_id"] for lab in labs if lab["lab_id"] != lab_id and not lab.get("suspended")]
        for other in others:
            reason = {"reason": "isolating an end-to-end test"}
            (await client.post(f"/v1/labs/{other}/suspension", json=reason)).raise_for_status()
        try:
            yield
        finally:
            async with httpx.AsyncClient(base_url=URL, timeout=10, headers=admin) as after:
                for other in others:
                    await after.delete(f"/v1/labs/{other}/suspension")


async def test_deadlines_and_results_survive_a_sigkill(infra: Infrastructure, evaluations: ServiceProcess) -> None:
    lab_id = f"restart-{uuid.uuid4().hex[:10]}"
    async with _the_only_lab_taking_requests(lab_id):
        await _sigkill_scenario(infra, lab_id)


async def _sigkill_scenario(infra: Infrastructure, lab_id: str) -> None:
    registry_id = fresh_registry_id()
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, acks="all")
    await producer.start()
    try:
        envelope = new_envelope(verified(registry_id), subject=registry_id)
        await producer.send_and_wait("verification.outcomes.v1", envelope.model_dump_json().encode(),
                                     key=registry_id.encode())  # fmt: skip
    finally:
        await producer.stop()

    async def relayed_to_the_lab() -> list[dict[str, Any]]:
        sent = await _query(
            infra.database_url,
            "SELECT payload FROM outbox WHERE aggregateid = $1 AND aggregatetype = $2 AND published_at IS NOT NULL",
            registry_id,
            f"evaluations.requests.{lab_id}.v1",
        )
        return sent if len(sent) >= 2 else []

    sent = await eventually(relayed_to_the_lab, what="requests relayed to the lab's topic")
    first, second = (Envelope[EvaluationRequested].model_validate_json(s["payload"]) for s in sent[:2])

    assert kill_service(TEST_STATE, "evaluations") is not None
    await _query(
        infra.database_url,
        "UPDATE evaluation_requests SET deadline = now() - interval '1 hour',"
        " request = jsonb_set(request, '{deadline}', to_jsonb(now() - interval '1 hour'))"
        " WHERE request_id = $1",
        first.data.request_id,
    )
    async with LabClient(lab_id=lab_id, bootstrap_servers=infra.bootstrap_servers) as lab:
        scores = {s.suite_id: s.score_min for s in second.data.suites}
        await lab.submit(result_for(lab_id, second, Evaluation(suite_scores=scores)))

    restarted = _start(infra)
    await asyncio.to_thread(wait_ready, [restarted])

    async def outcomes() -> dict[str, list[str]]:
        found = await _query(
            infra.database_url,
            "SELECT type, payload::jsonb -> 'data' ->> 'request_id' AS request_id FROM outbox"
            " WHERE aggregateid = $1 AND aggregatetype = 'evaluations.outcomes.v1'",
            registry_id,
        )
        by_type: dict[str, list[str]] = {}
        for row in found:
            by_type.setdefault(row["type"].split(".")[2], []).append(row["request_id"])
        return by_type if len(by_type) == 2 else {}

    seen = await eventually(outcomes, within=60, what="the overdue report and the completed evaluation")
    await asyncio.sleep(1.5)  # three more deadline polls: still exactly one report (the claim is in the DB)
    seen = await outcomes()
    assert seen == {
        "EvaluationDeadlineMissed": [first.data.request_id],
        "EvaluationCompleted": [second.data.request_id],
    }
