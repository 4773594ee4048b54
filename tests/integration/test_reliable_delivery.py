"""Nothing lost, nothing done twice: dead letters, redelivery over real Kafka, retried relays."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from devstack import Infrastructure
from registry_contracts import ComputeInputs, Developer, MessageDeadLettered, RegistrationSubmitted, new_envelope
from registry_contracts.envelope import Envelope
from services.plumbing.inbox import Disposition, EventConsumer, IncomingMessage, Subscription
from services.plumbing.outbox import OutboxRelay, enqueue
from services.plumbing.service import ServiceState
from services.verification.app import create_app as verification_app
from services.verification.settings import VerificationSettings
from tests.support import eventually, running, service_settings

pytestmark = pytest.mark.integration
FILINGS = "intake.filings.v1"
DEAD_LETTERS = "verification.dead-letter.v1"


def _filing_envelope() -> Any:
    registry_id = f"DLT-{uuid.uuid4().hex[:12]}"
    filing = RegistrationSubmitted(
        registry_id=registry_id,
        version=1,
        developer=Developer(organisation_id="org-dlt", legal_name="Dead Letter Ltd", country="GB"),
        model_name=registry_id,
        compute=ComputeInputs(declared_training_flop=6.3e24, parameters=70e9, training_tokens=15e12),
        submitted_at=datetime.now(UTC),
        rule_profile_id="baseline-2026-01",
    )
    return new_envelope(filing, subject=registry_id)


async def _produce(infra: Infrastructure, *messages: tuple[bytes, bytes]) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        offsets = []
        for key, value in messages:
            metadata = await producer.send_and_wait(FILINGS, value, key=key)
            offsets.append(metadata.offset)
        return offsets
    finally:
        await producer.stop()


async def _dead_letters_on_kafka(infra: Infrastructure, key: str) -> list[MessageDeadLettered]:
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(DEAD_LETTERS, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        found = []
        while await consumer.position(partition) < end:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            for record in batch.get(partition, []):
                letter = Envelope[MessageDeadLettered].model_validate_json(record.value).data
                if letter.key == key:
                    found.append(letter)
        return found
    finally:
        await consumer.stop()


async def test_a_malformed_message_is_dead_lettered_and_the_consumer_moves_on(infra: Infrastructure) -> None:
    app = verification_app(service_settings(VerificationSettings, infra))
    valid = _filing_envelope()
    bad_key = f"bad-{uuid.uuid4().hex[:8]}"
    invalid_payload = valid.model_dump(mode="json")
    invalid_payload["id"] = str(uuid.uuid4())
    invalid_payload["data"]["compute"]["declared_training_flop"] = "a lot"
    async with running(app):
        state: ServiceState = app.state.service
        await _produce(
            infra,
            (bad_key.encode(), b"{not json at all"),
            (bad_key.encode(), json.dumps(invalid_payload).encode()),
            (valid.subject.encode(), valid.model_dump_json().encode()),
        )

        async def valid_one_verified() -> Any:
            return await state.db.fetchval("SELECT count(*) FROM verifications WHERE registry_id = $1", valid.subject)

        await eventually(valid_one_verified, what="the valid message after the malformed ones")
        rows = await state.db.fetch(
            "SELECT error FROM dead_letters WHERE message_key = $1 ORDER BY kafka_offset", bad_key
        )
        assert [r["error"].split(":")[0] for r in rows] == [
            "not a CloudEvents envelope",
            "invalid registry.intake.RegistrationSubmitted.v1",
        ]
        assert "declared_training_flop" in rows[1]["error"]

        async def published() -> Any:
            letters = await _dead_letters_on_kafka(infra, bad_key)
            return letters if len(letters) == 2 else None

        letters = await eventually(published, what="dead letters on Kafka")
        assert letters[0].value == "{not json at all" and letters[0].topic == FILINGS
        assert letters[0].consumer == "verification"


async def test_an_event_redelivered_over_kafka_has_no_second_effect(infra: Infrastructure) -> None:
    app = verification_app(service_settings(VerificationSettings, infra))
    envelope = _filing_envelope()
    value = envelope.model_dump_json().encode()
    async with running(app):
        state: ServiceState = app.state.service
        await _produce(infra, (envelope.subject.encode(), value), (envelope.subject.encode(), value))

        async def both_consumed() -> Any:
            return (
                await state.db.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", envelope.id)
                and state.counters.snapshot().get("consumed_duplicate", 0) >= 1
            )

        await eventually(both_consumed, what="the duplicate delivery")
        assert (
            await state.db.fetchval("SELECT count(*) FROM verifications WHERE registry_id = $1", envelope.subject) == 1
        )


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_its_retries(scratch_pool: asyncpg.Pool) -> None:
    calls = 0

    async def always_fails(conn: asyncpg.Connection, envelope: Any) -> None:
        nonlocal calls
        calls += 1
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS side_effect (x int)")
        raise ValueError("the handler cannot apply this")

    consumer = EventConsumer(
        scratch_pool,
        consumer="test",
        dead_letter_topic="test.dead-letter.v1",
        subscriptions={RegistrationSubmitted.cloudevents_type(): Subscription(RegistrationSubmitted, always_fails)},
        max_attempts=3,
        retry_base_seconds=0.01,
    )
    envelope = _filing_envelope()
    message = IncomingMessage(FILINGS, 0, 7, envelope.subject.encode(), envelope.model_dump_json().encode(), {})
    assert await consumer.process(message) is Disposition.DEAD_LETTERED
    assert calls == 3
    row = await scratch_pool.fetchrow("SELECT error, attempts FROM dead_letters")
    assert row["attempts"] == 3 and "ValueError: the handler cannot apply this" in row["error"]
    assert await scratch_pool.fetchval("SELECT aggregatetype FROM outbox") == "test.dead-letter.v1"
    # Delivered again (the offset commit was lost): still one dead letter, no further handler call.
    assert await consumer.process(message) is Disposition.DUPLICATE
    assert calls == 3
    assert await scratch_pool.fetchval("SELECT count(*) FROM dead_letters") == 1


async def test_the_relay_retries_what_failed_to_publish_and_loses_nothing(scratch_pool: asyncpg.Pool) -> None:
    published: list[tuple[str, bytes]] = []
    failures = 6  # every send of the first two batches of three

    async def flaky_publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        nonlocal failures
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if failures:
            failures -= 1
            future.set_exception(ConnectionError("broker unavailable"))
        else:
            published.append((topic, key))
            future.set_result(None)
        return future

    envelopes = await _queue_filings(scratch_pool, 3)
    relay = OutboxRelay(scratch_pool, flaky_publish, schema="unused", batch_size=10, poll_seconds=0.05)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await relay.relay_once()
    assert await scratch_pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 3
    assert await scratch_pool.fetchval("SELECT max(attempts) FROM outbox") == 2
    assert await relay.relay_once() == 3
    assert [key.decode() for _, key in published] == [e.subject for e in envelopes]  # in order
    assert await scratch_pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    assert await relay.relay_once() == 0


async def test_relays_of_several_replicas_take_turns_and_keep_outbox_order(scratch_pool: asyncpg.Pool) -> None:
    published: list[str] = []

    async def slow_publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        await asyncio.sleep(0.001)  # lets the other replica's relay run in between, as it would
        published.append(key.decode())
        return _acknowledged()

    envelopes = await _queue_filings(scratch_pool, 120)
    relays = [
        OutboxRelay(scratch_pool, slow_publish, schema="replicated", batch_size=7, poll_seconds=0.02) for _ in range(3)
    ]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await eventually(lambda: _all_published(scratch_pool), within=30, what="every row to be published")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for relay in relays:
            await relay.close()
    assert published == [e.subject for e in envelopes]  # each once, in outbox order, across three relays


async def _queue_filings(pool: asyncpg.Pool, count: int) -> list[Any]:
    envelopes = [_filing_envelope() for _ in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        for envelope in envelopes:
            await enqueue(conn, topic=FILINGS, envelope=envelope)
    return envelopes


def _acknowledged() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


async def _all_published(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"))


async def test_published_rows_are_deleted_after_the_retention_and_unpublished_never(
    scratch_pool: asyncpg.Pool,
) -> None:
    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        return _acknowledged()

    await _queue_filings(scratch_pool, 3)
    relay = OutboxRelay(scratch_pool, publish, schema="retention", retention_hours=1)
    assert await relay.relay_once() == 3
    await scratch_pool.execute(
        "UPDATE outbox SET published_at = now() - interval '2 hours' WHERE seq = (SELECT min(seq) FROM outbox)"
    )
    await scratch_pool.execute(
        "UPDATE outbox SET published_at = NULL, created_at = now() - interval '30 days'"
        " WHERE seq = (SELECT max(seq) FROM outbox)"
    )
    await relay._prune_now_and_then()
    remaining = await scratch_pool.fetch("SELECT published_at IS NULL AS pending FROM outbox ORDER BY seq")
    assert [r["pending"] for r in remaining] == [False, True]  # the old published row went; the rest stay


async def test_a_relay_stops_when_cancelled_even_as_it_is_woken(scratch_pool: asyncpg.Pool) -> None:
    async def publish(topic: str, key: bytes, value: bytes, headers: dict[str, str]) -> Any:
        raise AssertionError("nothing to publish")

    relay = OutboxRelay(scratch_pool, publish, schema="stopping", poll_seconds=5)
    for _ in range(3):
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.3)  # idle: waiting to be woken
        relay._wake.set()  # a NOTIFY and a shutdown in the same moment
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3)
        await relay.close()
        assert done, "the relay swallowed its cancellation and kept running"


async def test_consumer_lag_is_reported_while_messages_wait_and_falls_to_zero(infra: Infrastructure) -> None:
    app = verification_app(service_settings(VerificationSettings, infra))
    async with running(app) as (client,):
        state: ServiceState = app.state.service
        first = _filing_envelope()
        await _produce(infra, (first.subject.encode(), first.model_dump_json().encode()))
        await eventually(lambda: _lag_known(client), what="the consumer to fetch from its partitions")
        await eventually(lambda: _verified(state, [first.subject]), what="the first filing to be applied")
        blocker = await asyncpg.connect(infra.database_url)
        try:
            # The handler cannot record anything while the inbox is locked, so what arrives now waits.
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE verification.inbox IN ACCESS EXCLUSIVE MODE")
                waiting = [_filing_envelope() for _ in range(10)]
                await _produce(infra, *[(e.subject.encode(), e.model_dump_json().encode()) for e in waiting])
                # All ten count, the one its handler holds (past the consumer's position) included.
                lagging = await eventually(
                    lambda: _lag_at_least(client, len(waiting), at_most=len(waiting)),
                    what="the waiting messages to show as lag",
                )
                assert lagging[FILINGS] == len(waiting)
        finally:
            await blocker.close()
        await eventually(lambda: _lag_at_least(client, 0, at_most=0), what="the lag to fall to zero")
        assert await _verified(state, [e.subject for e in waiting])


async def _verified(state: ServiceState, registry_ids: list[str]) -> bool:
    applied = await state.db.fetchval("SELECT count(*) FROM verifications WHERE registry_id = ANY($1)", registry_ids)
    return bool(applied == len(registry_ids))


async def _lag_known(client: Any) -> bool:
    lag = (await client.get("/metrics")).json()["consumer_lag"]
    return FILINGS in lag


async def _lag_at_least(client: Any, least: int, at_most: int | None = None) -> dict[str, int] | None:
    lag: dict[str, int] = (await client.get("/metrics")).json()["consumer_lag"]
    if lag.get("total", 0) >= least and (at_most is None or lag["total"] <= at_most) and FILINGS in lag:
        return lag
    return None
