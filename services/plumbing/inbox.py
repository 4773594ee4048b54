"""Consuming events exactly once in effect: inbox dedupe, bounded retries, and a dead-letter topic.

A handler runs in a transaction that also records the event id in the inbox; a redelivered event finds its
id there and has no second effect. The Kafka offset is committed only after that transaction (the caller
acks on return). A message that cannot be parsed, or whose handler keeps failing, is recorded in
dead_letters and published on the consumer's dead-letter topic through the outbox, and the consumer moves on.
Infrastructure failures (the database is unreachable) are not the message's fault: they propagate, the
message is not acknowledged, and it is delivered again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from registry_contracts import Envelope, EventData, MessageDeadLettered, RawEnvelope, new_envelope

from .outbox import enqueue
from .telemetry import Counters, context_from_headers, log_fields, tracer

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Any], Awaitable[None]]
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


class Disposition(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # an event type this consumer does not handle (e.g. newer than it)
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Subscription:
    """Which payload model an event type is parsed into, and the handler that applies it."""

    event: type[EventData]
    handle: Handler


@dataclass(frozen=True)
class IncomingMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str]

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> IncomingMessage:
        """An aiokafka record as the consumer sees it (headers decoded, a null value as empty bytes)."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers={k: v.decode("utf-8", "replace") for k, v in (record.headers or ())},
        )


class EventConsumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        consumer: str,
        dead_letter_topic: str,
        subscriptions: Mapping[str, Subscription],
        max_attempts: int = 5,
        retry_base_seconds: float = 0.05,
        counters: Counters | None = None,
    ) -> None:
        self._pool = pool
        self._consumer = consumer
        self._dead_letter_topic = dead_letter_topic
        self._subscriptions = dict(subscriptions)
        self._max_attempts = max_attempts
        self._retry_base_seconds = retry_base_seconds
        self._counters = counters or Counters()
        # Messages handed over by Kafka and not yet applied, per topic: the consumer's position is already past
        # them, so the lag reported from positions alone would miss them.
        self.in_flight: dict[str, int] = {}

    async def process(self, message: IncomingMessage) -> Disposition:
        """Apply one Kafka message; returns what happened. Raises only for infrastructure failures."""
        return (await self.process_batch([message]))[0]

    async def process_batch(self, messages: Sequence[IncomingMessage], *, parallelism: int = 1) -> list[Disposition]:
        """Apply a batch read from Kafka; returns what happened to each, in order.

        Messages with the same key (one model, whatever the topic) are applied one after another in the order
        read; different keys run concurrently, at most `parallelism` at once. Kafka orders only within a
        partition, and nothing here relies on an order between keys (the handlers lock what several keys
        share). An infrastructure failure stops its key's remaining messages; the others finish, then the first
        failure is raised, so the batch is not acknowledged and is delivered again (the inbox skips what was
        applied).
        """
        for message in messages:
            self.in_flight[message.topic] = self.in_flight.get(message.topic, 0) + 1
        by_key: dict[bytes | tuple[str, int], list[tuple[int, IncomingMessage]]] = {}
        for index, message in enumerate(messages):
            key = message.key if message.key is not None else (message.topic, message.partition)
            by_key.setdefault(key, []).append((index, message))
        outcomes: list[Disposition | None] = [None] * len(messages)
        slots = asyncio.Semaphore(max(1, parallelism))

        async def apply_in_order(queue: list[tuple[int, IncomingMessage]]) -> None:
            applied = 0
            try:
                async with slots:
                    for index, message in queue:
                        outcomes[index] = await self._process_traced(message)
                        self.in_flight[message.topic] -= 1
                        applied += 1
            finally:  # failed or cancelled (even while waiting for a slot): the rest are no longer in flight
                for _, left in queue[applied:]:
                    self.in_flight[left.topic] -= 1

        queues = list(by_key.values())
        if len(queues) == 1:
            await apply_in_order(queues[0])  # the common single-message case needs no tasks
        else:
            results = await asyncio.gather(*(apply_in_order(q) for q in queues), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                raise failures[0]
        return [outcome for outcome in outcomes if outcome is not None]

    async def _process_traced(self, message: IncomingMessage) -> Disposition:
        with tracer(__name__).start_as_current_span(
            f"consume {message.topic}",
            context=context_from_headers(message.headers),
            attributes={"messaging.destination": message.topic, "messaging.kafka.offset": message.offset},
        ) as span:
            disposition = await self._process(message)
            span.set_attribute("registry.disposition", disposition.value)
            self._counters.add(f"consumed_{disposition.value}")
            return disposition

    async def _process(self, message: IncomingMessage) -> Disposition:
        try:
            raw = RawEnvelope.model_validate_json(message.value)
        except ValidationError as error:
            return await self._dead_letter(message, f"not a CloudEvents envelope: {_summary(error)}", 1)
        token = log_fields.set({"event_id": str(raw.id), "subject": raw.subject, "correlation_id": raw.correlationid})
        try:
            subscription = self._subscriptions.get(raw.type)
            if subscription is None:
                log.debug("ignoring event type %s", raw.type)
                return Disposition.IGNORED
            try:
                envelope = Envelope[subscription.event].model_validate_json(message.value)  # type: ignore[name-defined]
            except ValidationError as error:
                # Not recorded in the inbox: a well-formed event with this id may still arrive.
                return await self._dead_letter(message, f"invalid {raw.type}: {_summary(error)}", 1)
            return await self._handle_with_retries(message, subscription, envelope)
        finally:
            log_fields.reset(token)

    async def _handle_with_retries(
        self, message: IncomingMessage, subscription: Subscription, envelope: Envelope[Any]
    ) -> Disposition:
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    if not await self._record_in_inbox(conn, message, envelope.id, envelope.type):
                        return Disposition.DUPLICATE
                    await subscription.handle(conn, envelope)
                return Disposition.PROCESSED
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as error:
                log.warning("handler failed (attempt %d/%d)", attempt, self._max_attempts, exc_info=True)
                if attempt == self._max_attempts:
                    reason = f"handler failed {attempt} times: {type(error).__name__}: {error}"
                    return await self._dead_letter(message, reason, attempt, envelope.id)
                await asyncio.sleep(self._retry_base_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _record_in_inbox(
        self, conn: asyncpg.Connection, message: IncomingMessage, event_id: uuid.UUID, event_type: str
    ) -> bool:
        inserted = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
            self._consumer,
            event_id,
            event_type,
            message.topic,
            message.partition,
            message.offset,
        )
        return bool(inserted)

    async def _dead_letter(
        self, message: IncomingMessage, error: str, attempts: int, event_id: uuid.UUID | None = None
    ) -> Disposition:
        log.error("dead-lettering %s[%d]@%d: %s", message.topic, message.partition, message.offset, error)
        key = message.key.decode("utf-8", "replace") if message.key is not None else None
        record = MessageDeadLettered(
            consumer=self._consumer,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=key,
            value=message.value.decode("utf-8", "replace"),
            headers=dict(message.headers),
            error=error,
            attempts=attempts,
            failed_at=datetime.now(UTC),
        )
        envelope = new_envelope(record, subject=key or f"{message.topic}/{message.partition}/{message.offset}")
        async with self._pool.acquire() as conn, conn.transaction():
            if event_id is not None and not await self._record_in_inbox(conn, message, event_id, "dead-lettered"):
                return Disposition.DUPLICATE
            inserted = await conn.fetchval(
                "INSERT INTO dead_letters (id, consumer, topic, kafka_partition, kafka_offset, message_key,"
                " message_value, error, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT DO NOTHING RETURNING true",
                envelope.id,
                self._consumer,
                message.topic,
                message.partition,
                message.offset,
                key,
                record.value,
                error,
                attempts,
            )
            if inserted:
                await enqueue(conn, topic=self._dead_letter_topic, envelope=envelope)
        return Disposition.DEAD_LETTERED


def _summary(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in error.errors()[:10]]
    return "; ".join(parts)
