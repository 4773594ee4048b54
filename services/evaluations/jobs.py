"""Evaluations' background jobs: reading every lab's result topic, and the durable deadline watch.

Both keep their state in PostgreSQL, so a restart loses nothing: results are read with offsets committed
only after their transaction (and deduplicated by the inbox), and a request is reported overdue once, in
the same transaction that marks it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from registry_contracts import Envelope, dead_letter_topic, new_envelope
from registry_contracts.events.evaluations import (
    LAB_RESULT_TOPIC_PATTERN,
    EvaluationDeadlineMissed,
    EvaluationResultSubmitted,
    lab_id_of_result_topic,
)
from services.plumbing.inbox import INFRASTRUCTURE_ERRORS, EventConsumer, IncomingMessage, Subscription
from services.plumbing.service import ServiceState

from . import store
from .domain import find_overdue
from .lab_results import apply_lab_result
from .settings import EvaluationsSettings

log = logging.getLogger(__name__)
OVERDUE_BATCH = 100


def lab_result_consumer(state: ServiceState, lab_id: str) -> EventConsumer:
    """An inbox consumer for one lab's results; the lab's identity comes from the topic it could write."""

    async def handle(conn: Any, envelope: Envelope[EvaluationResultSubmitted]) -> None:
        await apply_lab_result(conn, lab_id=lab_id, envelope=envelope, via="kafka", now=datetime.now(UTC))

    return EventConsumer(
        state.db,
        consumer=f"evaluations/lab/{lab_id}",  # per lab: one lab's event ids can never shadow another's
        dead_letter_topic=dead_letter_topic(state.settings.service_name).name,
        subscriptions={EvaluationResultSubmitted.cloudevents_type(): Subscription(EvaluationResultSubmitted, handle)},
        max_attempts=state.settings.consumer_max_attempts,
        counters=state.counters,
    )


async def consume_lab_results(state: ServiceState) -> None:
    """Read every onboarded lab's result topic until cancelled; a lost connection is retried, not fatal."""
    while True:
        try:
            await _consume_lab_results(state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("lab result consumer stopped; restarting in 2 s")
            await asyncio.sleep(2.0)


async def _consume_lab_results(state: ServiceState) -> None:
    # A pattern subscription finds a newly onboarded lab's topic within lab_topics_refresh_ms.
    settings: EvaluationsSettings = state.settings  # type: ignore[assignment]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        client_id="registry-evaluations-lab-results",
        group_id=settings.lab_results_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        metadata_max_age_ms=settings.lab_topics_refresh_ms,
        **settings.kafka_client_options(),
    )
    consumer.subscribe(pattern=LAB_RESULT_TOPIC_PATTERN)
    consumers: dict[str, EventConsumer] = {}
    try:
        # Started inside the try: cancelled mid-start (shutdown while joining the group), it must still
        # leave the group, or its heartbeats keep a member that never rejoins and stalls every rebalance.
        await consumer.start()
        async for record in consumer:
            lab_id = lab_id_of_result_topic(record.topic)
            if lab_id is None:  # the pattern guarantees a lab topic; defensive against a changed pattern
                continue
            if lab_id not in consumers:
                consumers[lab_id] = lab_result_consumer(state, lab_id)
            message = IncomingMessage.from_record(record)
            partition = TopicPartition(record.topic, record.partition)
            try:
                await consumers[lab_id].process(message)
            except INFRASTRUCTURE_ERRORS:
                log.warning("database unavailable; lab result %s@%d will be read again", record.topic, record.offset)
                consumer.seek(partition, record.offset)
                await asyncio.sleep(1.0)
                continue
            await consumer.commit({partition: record.offset + 1})
    finally:
        await consumer.stop()


async def report_overdue_once(state: ServiceState, *, now: datetime | None = None) -> int:
    """Publish EvaluationDeadlineMissed for each open request past its deadline, once; returns how many."""
    moment = now or datetime.now(UTC)
    async with state.db.acquire() as conn, conn.transaction():
        due = await store.claim_due_requests(conn, now=moment, limit=OVERDUE_BATCH)
        for overdue in find_overdue(requests=due, now=moment):
            request = overdue.request
            missed = EvaluationDeadlineMissed(
                registry_id=request.registry_id,
                version=request.model_version,
                request_id=request.request_id,
                lab_id=request.lab_id,
                domain=request.domain,
                deadline=request.deadline,
                detected_at=moment,
            )
            await store.enqueue_outcome(conn, new_envelope(missed, subject=request.registry_id))
            await store.mark_deadline_missed(conn, request.request_id, moment)
        return len(due)


async def watch_deadlines(state: ServiceState) -> None:
    """Poll for overdue requests until cancelled; errors are logged and the next poll tries again."""
    settings: EvaluationsSettings = state.settings  # type: ignore[assignment]
    while True:
        try:
            while await report_overdue_once(state) == OVERDUE_BATCH:
                pass  # a backlog: keep going without waiting
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("overdue detection failed; retrying at the next poll")
        await asyncio.sleep(settings.deadline_poll_seconds)
