"""Kafka SASL/SCRAM and ACLs on a broker of its own: onboarding creates a lab's user, topics and ACLs; a lab
reads only its request topic and writes only its result topic; the evaluations flow works under SASL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from devstack import Infrastructure, TopicSpec, ensure_topics, start_kafka, stop_kafka
from devstack.kafka_security import (
    ADMIN_USER,
    KafkaCredentials,
    provision_service_principals,
    sasl_broker_properties,
    sasl_format_args,
    service_principal,
    stack_credentials,
)
from registry_contracts import ALL_TOPICS, RawEnvelope, new_envelope
from registry_contracts.events.evaluations import EvaluationRequested
from services.evaluations.app import create_app
from services.evaluations.settings import EvaluationsSettings
from tests.component.evaluations_support import fresh_registry_id, lab_body, verified
from tests.conftest import PORT_BASE, TEST_STATE
from tests.support import bearer, eventually, running, service_settings

try:
    from registry_labclient import Evaluation, LabClient
except ImportError:  # not pip-installed: use the checkout (the package lives at labclient/)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "labclient"))
    from registry_labclient import Evaluation, LabClient

pytestmark = pytest.mark.integration
SASL_STATE = TEST_STATE / "sasl-kafka"
DENIED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)
ONBOARDED: list[KafkaCredentials] = []  # every lab of this module's database: the flow test answers for all


@pytest.fixture(scope="module")
def sasl_kafka() -> Iterator[tuple[str, KafkaCredentials]]:
    import confluent_kafka  # noqa: F401  - creates SCRAM users and ACLs; a test dependency, never skipped

    os.environ.setdefault("KAFKA_LIBS_DIR", str(Path(__file__).resolve().parents[2] / ".state" / "kafka" / "libs"))
    admin = stack_credentials(SASL_STATE)[ADMIN_USER]
    port, controller_port = PORT_BASE + 192, PORT_BASE + 193
    handle = start_kafka(
        SASL_STATE,
        port=port,
        controller_port=controller_port,
        extra_properties=sasl_broker_properties(port=port, controller_port=controller_port, admin=admin),
        format_extra_args=sasl_format_args(admin),
    )
    provision_service_principals(handle.bootstrap_servers, SASL_STATE, ALL_TOPICS)
    specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
    asyncio.run(ensure_topics(handle.bootstrap_servers, specs, client_options=admin.aiokafka_options()))
    yield handle.bootstrap_servers, admin
    if os.environ.get("REGISTRY_KEEP_TEST_STACK") != "1":
        stop_kafka(SASL_STATE)


async def _own_database(infra: Infrastructure) -> str:
    """A fresh database of its own, so this broker's service neither relays the other tests' outbox nor
    assigns requests to labs of earlier runs (whose passwords are gone).
    """
    server, _, _ = infra.database_url.rpartition("/")
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute("DROP DATABASE IF EXISTS registry_sasl")
        await conn.execute("CREATE DATABASE registry_sasl")
    finally:
        await conn.close()
    return f"{server}/registry_sasl"


@pytest.fixture(scope="module")
async def evaluations(
    infra: Infrastructure, sasl_kafka: tuple[str, KafkaCredentials]
) -> AsyncIterator[httpx.AsyncClient]:
    bootstrap, admin = sasl_kafka
    service = stack_credentials(SASL_STATE)[service_principal("evaluations")]
    settings = service_settings(
        EvaluationsSettings,
        infra,
        database_url=await _own_database(infra),
        kafka_bootstrap_servers=bootstrap,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username=service.username,
        kafka_sasl_password=service.password,
        lab_kafka_admin_username=admin.username,
        lab_kafka_admin_password=admin.password,
        lab_topics_refresh_ms=500,
        deadline_poll_seconds=3600,
    )
    async with running(create_app(settings)) as (client,):
        yield client


async def _onboard(client: httpx.AsyncClient, bootstrap: str) -> KafkaCredentials:
    lab_id = f"acl-{uuid.uuid4().hex[:8]}"
    response = await client.put(f"/v1/labs/{lab_id}", json=lab_body(lab_id), headers=bearer("admin"))
    assert response.status_code == 200, response.text
    kafka = response.json()["kafka"]
    assert kafka["username"] == f"lab-{lab_id}" and kafka["password"]
    assert kafka["security_protocol"] == "SASL_PLAINTEXT" and kafka["sasl_mechanism"] == "SCRAM-SHA-512"
    ONBOARDED.append(KafkaCredentials(kafka["username"], kafka["password"]))
    return ONBOARDED[-1]


def _lab_id(credentials: KafkaCredentials) -> str:
    return credentials.username.removeprefix("lab-")


async def _read_one(bootstrap: str, credentials: KafkaCredentials, topic: str, group: str) -> Any:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        **credentials.aiokafka_options(),
    )  # fmt: skip
    try:
        await consumer.start()
        return await asyncio.wait_for(consumer.getone(), timeout=20)
    finally:
        await consumer.stop()


async def _write(bootstrap: str, credentials: KafkaCredentials, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **credentials.aiokafka_options())
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"probe"), timeout=20)
    finally:
        await producer.stop()


async def test_a_lab_reads_only_its_requests_and_writes_only_its_results(
    evaluations: httpx.AsyncClient, sasl_kafka: tuple[str, KafkaCredentials]
) -> None:
    bootstrap, admin = sasl_kafka
    lab_a, lab_b = await _onboard(evaluations, bootstrap), await _onboard(evaluations, bootstrap)
    a, b = _lab_id(lab_a), _lab_id(lab_b)
    await _write(bootstrap, admin, f"evaluations.requests.{b}.v1")  # something B could read

    with pytest.raises(DENIED):
        await _read_one(bootstrap, lab_a, f"evaluations.requests.{b}.v1", f"lab-{a}")
    with pytest.raises(DENIED):
        await _read_one(bootstrap, lab_a, f"evaluations.requests.{b}.v1", f"lab-{b}")
    with pytest.raises(DENIED):
        await _write(bootstrap, lab_a, f"labs.{b}.results.v1")
    with pytest.raises(DENIED):
        await _write(bootstrap, lab_a, "evaluations.outcomes.v1")
    with pytest.raises(DENIED):
        await _read_one(bootstrap, lab_a, "intake.filings.v1", f"lab-{a}")
    await _write(bootstrap, lab_a, f"labs.{a}.results.v1")  # its own result topic: allowed
    assert (await _read_one(bootstrap, lab_b, f"evaluations.requests.{b}.v1", f"lab-{b}")).value == b"{}"
    with pytest.raises(KafkaError):  # a wrong password is refused outright
        await _write(bootstrap, KafkaCredentials(lab_a.username, "not-the-password"), f"labs.{a}.results.v1")


async def test_the_evaluation_flow_works_under_sasl_with_the_lab_client(
    evaluations: httpx.AsyncClient, sasl_kafka: tuple[str, KafkaCredentials]
) -> None:
    bootstrap, admin = sasl_kafka
    for _ in range(2):
        await _onboard(evaluations, bootstrap)
    labs = list(ONBOARDED)  # requests may go to any lab of this database, each answers with its own client
    registry_id = fresh_registry_id()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **admin.aiokafka_options())
    await producer.start()
    try:
        envelope = new_envelope(verified(registry_id), subject=registry_id)
        await producer.send_and_wait("verification.outcomes.v1", envelope.model_dump_json().encode(),
                                     key=registry_id.encode())  # fmt: skip
    finally:
        await producer.stop()

    async def evaluate(request: EvaluationRequested) -> Evaluation:
        return Evaluation(suite_scores={s.suite_id: s.score_min for s in request.suites})

    clients = [
        LabClient(
            lab_id=_lab_id(c),
            bootstrap_servers=bootstrap,
            username=c.username,
            password=c.password,
            security_protocol="SASL_PLAINTEXT",
        )
        for c in labs
    ]
    for lab in clients:
        await lab.start()
    tasks = [asyncio.create_task(lab.run(evaluate)) for lab in clients]
    outcomes = AIOKafkaConsumer(
        "evaluations.outcomes.v1", bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest", **admin.aiokafka_options(),
    )  # fmt: skip
    await outcomes.start()
    completed: set[str] = set()
    try:

        async def all_completed() -> set[str]:
            for records in (await outcomes.getmany(timeout_ms=200)).values():
                for record in records:
                    event = RawEnvelope.model_validate_json(record.value or b"")
                    if event.subject == registry_id and event.type.endswith("EvaluationCompleted.v1"):
                        completed.add(event.data["domain"]["domain"])
            return completed if len(completed) == 5 else set()

        await eventually(all_completed, within=60, what="five domains completed under SASL")
    finally:
        await outcomes.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lab in clients:
            await lab.stop()
