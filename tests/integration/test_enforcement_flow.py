"""Enforcement on real Kafka and PostgreSQL: events in over Kafka become cases, officers act through the API,
and the results (CaseOpened, ActionTaken, StandingChanged) come out on Kafka; two officers writing the same
case at once never overwrite each other; a response deadline survives a restart."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack import Infrastructure
from registry_contracts import Envelope
from registry_contracts.events.evaluations import EvaluationVerdict
from registry_contracts.topics import ENFORCEMENT_CASES, ENFORCEMENT_STANDING
from services.enforcement import store
from services.enforcement.app import create_app
from services.enforcement.domain import add_note
from services.enforcement.settings import EnforcementSettings
from tests.component import enforcement_support as ev
from tests.support import bearer, eventually, running, service_settings

pytestmark = pytest.mark.integration


class Topics:
    """Everything enforcement publishes, read from Kafka from the start, grouped by message key."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            ENFORCEMENT_CASES.name,
            ENFORCEMENT_STANDING.name,
            bootstrap_servers=bootstrap,
            group_id=f"enforcement-flow-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    async def of(self, key: str, event_type: str) -> list[dict[str, Any]]:
        batches = await self.consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                envelope = json.loads(record.value)
                self.seen.append((record.key.decode(), envelope["type"], envelope["data"]))
        return [data for k, t, data in self.seen if k == key and t == f"registry.enforcement.{event_type}.v1"]


@pytest.fixture(scope="module")
async def kafka(infra: Infrastructure) -> AsyncIterator[tuple[AIOKafkaProducer, Topics]]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, acks="all", enable_idempotence=True)
    topics = Topics(infra.bootstrap_servers)
    await producer.start()
    await topics.consumer.start()
    yield producer, topics
    await topics.consumer.stop()
    await producer.stop()


@pytest.fixture(scope="module")
async def enforcement(infra: Infrastructure) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service_settings(EnforcementSettings, infra, deadline_poll_seconds=0.2))
    async with running(app) as (client,):
        client.headers.update(bearer("officer", subject="officer-kafka"))
        yield client


async def send(producer: AIOKafkaProducer, envelope: Envelope[Any]) -> None:
    message = ev.message(envelope)
    await producer.send_and_wait(message.topic, key=message.key, value=message.value)


async def case_of(client: httpx.AsyncClient, key: str, status: str | None = None) -> dict[str, Any] | None:
    cases = (await client.get("/v1/cases", params={"registry_id": key})).json()
    return next((c for c in cases if status is None or c["status"] == status), None)


async def test_unregistered_use_reported_on_kafka_opens_a_case_published_on_kafka(
    kafka: tuple[AIOKafkaProducer, Topics], enforcement: httpx.AsyncClient
) -> None:
    producer, topics = kafka
    report = ev.usage()
    key = ev.usage_key(report)
    await send(producer, ev.wrap(report, key))
    case = await eventually(lambda: case_of(enforcement, key), what="a case for the unregistered model")
    assert (case["rule"], case["registry_id"], case["model_key"]) == ("used_unregistered", None, key)
    (opened,) = await eventually(lambda: topics.of(key, "CaseOpened"), what="CaseOpened on Kafka")
    assert opened["case_id"] == case["case_id"] and opened["rule"] == "used_unregistered"


async def test_failed_evaluation_to_suspension_and_back_on_kafka(
    kafka: tuple[AIOKafkaProducer, Topics], enforcement: httpx.AsyncClient
) -> None:
    producer, topics = kafka
    rid = ev.registry_id()
    await send(producer, ev.wrap(ev.registration(rid)))
    await send(producer, ev.wrap(ev.evaluation(rid, EvaluationVerdict.FAIL)))
    case = await eventually(lambda: case_of(enforcement, rid), what="a case for the failed evaluation")
    under_review = await eventually(lambda: topics.of(rid, "StandingChanged"), what="under review on Kafka")
    assert [s["standing"] for s in under_review] == ["under_review"]

    url = f"/v1/cases/{case['case_id']}"
    triaged = await enforcement.post(f"{url}/triage", json={"row_version": case["row_version"]})
    version = triaged.json()["row_version"]
    suspended = await enforcement.post(
        f"{url}/actions",
        json={"row_version": version, "kind": "suspension", "reason": "Fails cyber offence", "interim": True},
    )
    assert suspended.status_code == 200, suspended.text

    async def suspended_on_kafka() -> list[dict[str, Any]] | None:
        standings = await topics.of(rid, "StandingChanged")
        return standings if len(standings) >= 2 else None

    standings = await eventually(suspended_on_kafka, what="StandingChanged(suspended) on Kafka")
    assert standings[1]["standing"] == "suspended" and standings[1]["case_ids"] == [case["case_id"]]
    (action,) = await eventually(lambda: topics.of(rid, "ActionTaken"), what="ActionTaken on Kafka")
    assert (action["kind"], action["actor"]) == ("suspension", "officer-kafka")
    moves = await topics.of(rid, "CaseStatusChanged")
    assert [(m["from_status"], m["to_status"]) for m in moves] == [("opened", "triaged")]

    reinstated = await enforcement.post(
        f"{url}/actions",
        json={"row_version": suspended.json()["row_version"], "kind": "reinstatement", "reason": "Mitigated"},
    )
    assert reinstated.status_code == 200

    async def reinstated_on_kafka() -> list[dict[str, Any]] | None:
        standings = await topics.of(rid, "StandingChanged")
        return standings if len(standings) >= 3 else None

    assert (await eventually(reinstated_on_kafka, what="reinstatement on Kafka"))[2]["standing"] == "under_review"


async def test_two_officers_writing_at_once_never_overwrite_each_other(
    infra: Infrastructure, kafka: tuple[AIOKafkaProducer, Topics], enforcement: httpx.AsyncClient
) -> None:
    producer, _ = kafka
    rid = ev.registry_id()
    await send(producer, ev.wrap(ev.compute_verified(rid)))
    case = await eventually(lambda: case_of(enforcement, rid), what="a case")
    url = f"/v1/cases/{case['case_id']}/notes"
    version = case["row_version"]
    for round_number in range(5):
        writers = [
            enforcement.post(
                url,
                json={"row_version": version, "text": f"round {round_number} by {who}"},
                headers=bearer("officer", subject=who),
            )
            for who in ("officer-a", "officer-b")
        ]
        answers = await asyncio.gather(*writers)
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        version = next(a for a in answers if a.status_code == 200).json()["row_version"]
    notes = [
        e
        for e in (await enforcement.get(f"/v1/cases/{case['case_id']}")).json()["timeline"]
        if e["kind"] == "note_added"
    ]
    assert len(notes) == 5

    # The guard itself: two transactions on separate connections both read version v, both write.
    import asyncpg

    connections = [
        await asyncpg.connect(infra.database_url, server_settings={"search_path": "enforcement"}) for _ in range(2)
    ]
    try:
        transactions = [c.transaction() for c in connections]
        for t in transactions:
            await t.start()
        loaded = [await store.load_case(c, case["case_id"]) for c in connections]
        assert loaded[0] is not None and loaded[1] is not None and loaded[0][1] == loaded[1][1] == version
        changes = [
            add_note(case_, actor=who, text="racing", now=ev.NOW) for (case_, _), who in zip(loaded, "ab", strict=True)
        ]
        first = await store.save_change(connections[0], changes[0], expected_row_version=version)
        second = asyncio.create_task(store.save_change(connections[1], changes[1], expected_row_version=version))
        await asyncio.sleep(0.2)  # the second writer is now blocked on the first one's row lock
        assert not second.done()
        await transactions[0].commit()
        with pytest.raises(store.StaleCaseError):
            await second
        await transactions[1].rollback()
        assert first == version + 1
    finally:
        for c in connections:
            await c.close()


async def test_a_response_deadline_is_applied_after_a_restart(infra: Infrastructure) -> None:
    settings = service_settings(EnforcementSettings, infra, deadline_poll_seconds=0.2)
    rid = ev.registry_id()
    first = create_app(settings)
    async with running(first) as (client,):
        client.headers.update(bearer("officer"))
        await ev.deliver(first.state.service, ev.wrap(ev.evaluation(rid, EvaluationVerdict.FAIL)))
        case = await case_of(client, rid)
        assert case is not None
        url = f"/v1/cases/{case['case_id']}"
        triaged = (await client.post(f"{url}/triage", json={"row_version": case["row_version"]})).json()
        noticed = await client.post(f"{url}/notice", json={"row_version": triaged["row_version"], "reason": "Explain"})
        assert noticed.json()["case"]["status"] == "notice_issued"
    # While the service is down, the 30-day window passes (simulated by moving the stored deadline back).
    import asyncpg

    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(
            'UPDATE enforcement.cases SET response_due_at = now() - interval \'1 minute\', "case" = jsonb_set("case",'
            " '{response_due_at}', to_jsonb(to_char((now() - interval '1 minute') AT TIME ZONE 'UTC',"
            ' \'YYYY-MM-DD"T"HH24:MI:SS"Z"\'))) WHERE case_id = $1',
            case["case_id"],
        )
    finally:
        await conn.close()
    second = create_app(settings)
    async with running(second) as (client,):
        client.headers.update(bearer("officer"))
        moved = await eventually(lambda: case_of(client, rid, "ready_for_decision"), what="the deadline job")
        detail = (await client.get(f"/v1/cases/{moved['case_id']}")).json()
        assert detail["timeline"][-1]["kind"] == "response_deadline_passed"
        assert detail["timeline"][-1]["actor"] == "system"
