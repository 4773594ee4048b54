"""Evaluations' background jobs: reading every lab's result topic, the durable deadline watch, and the
planning watch (periodic re-evaluations, and domains waiting for a lab).

All keep their state in PostgreSQL, so a restart loses nothing: results are read with offsets committed
only after their transaction (and deduplicated by the inbox), a request is reported overdue once, in the
same transaction that marks it, and a periodic cycle or a waiting domain is planned in the transaction that
moves the model's clock or ends the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from registry_contracts import Envelope, dead_letter_topic, new_envelope
from registry_contracts.events.evaluations import (
    LAB_RESULT_TOPIC_PATTERN,
    EvaluationDeadlineMissed,
    EvaluationResultSubmitted,
    lab_id_of_result_topic,
)
from services.plumbing import audit
from services.plumbing.inbox import INFRASTRUCTURE_ERRORS, EventConsumer, IncomingMessage, Subscription
from services.plumbing.metrics import Metric
from services.plumbing.service import ServiceState, consumer_lag

from . import store
from .domain import EvaluationCatalogue, find_overdue, is_periodic_evaluation_due, periodic_trigger
from .handlers import CATALOGUE_KEY, known_model, make_plan, store_plan
from .lab_results import apply_lab_result
from .settings import EvaluationsSettings

log = logging.getLogger(__name__)
OVERDUE_BATCH = 100
PLANNING_BATCH = 50
PLANNING_WAKE_KEY = "planning_wake"
LAB_RESULTS_KEY = "lab_results_reader"


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
    state.extras[LAB_RESULTS_KEY] = (consumer, consumers)  # for /metrics: this reader's lag
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
            wake_planning(state)  # an accepted result frees the lab a slot
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
            await audit.record(
                conn,
                actor="system",
                action="decision.deadline_missed",
                subject=request.registry_id,
                detail={"request_id": request.request_id, "lab_id": request.lab_id, "deadline": request.deadline},
            )
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


async def plan_periodic_once(state: ServiceState, *, now: datetime | None = None) -> int:
    """Plan the periodic re-evaluation of up to PLANNING_BATCH models it is due for; returns how many.

    One transaction per model: its row is claimed (SKIP LOCKED, so replicas share the work), planned for the
    cycle, and its clock restarted, together. A cycle that finds nothing to ask (every domain still open, or
    its tier now requires none) still restarts or stops the clock, without publishing an empty plan.
    """
    moment = now or datetime.now(UTC)
    catalogue: EvaluationCatalogue = state.extras[CATALOGUE_KEY]
    cutoff = moment - timedelta(days=state.profile.deadlines.evaluation_periodic_days)
    planned = 0
    for _ in range(PLANNING_BATCH):
        async with state.db.acquire() as conn, conn.transaction():
            row = await store.claim_periodic_due(conn, due_if_planned_before=cutoff)
            if row is None:
                break
            last = row["last_full_plan_at"]
            if not is_periodic_evaluation_due(last_evaluated_at=last, now=moment, profile=state.profile):
                break  # the database's clock and this process's disagree; the next poll settles it
            trigger = periodic_trigger(last_full_plan_at=last, profile=state.profile)
            plan = await make_plan(
                conn, model=known_model(row), trigger=trigger, profile=state.profile, catalogue=catalogue
            )
            if plan.is_empty:
                await store.set_last_full_plan(conn, row["registry_id"], moment if plan.required_domains else None)
            else:
                await store_plan(conn, plan, cause=None)
            planned += 1
    return planned


async def assign_waiting_once(state: ServiceState, *, now: datetime | None = None) -> int:
    """Try again, once each, every domain waiting for a lab; returns how many were assigned.

    Each waiting group is re-planned with the trigger that required it, limited to its waiting domains, so a
    request gets the id its plan announced. Assigned domains are published as a new EvaluationsPlanned with
    their requests; a domain still without a lab keeps waiting (its reason refreshed, nothing published); one
    another request now covers stops waiting.
    """
    moment = now or datetime.now(UTC)
    catalogue: EvaluationCatalogue = state.extras[CATALOGUE_KEY]
    assigned = 0
    for group in await store.waiting_groups(state.db, checked_before=moment, limit=PLANNING_BATCH):
        registry_id, version, trigger = group["registry_id"], group["version"], group["trigger"]
        async with state.db.acquire() as conn, conn.transaction():
            await store.list_labs(conn, for_update=True)  # labs first, as every plan locks them
            row = await store.get_model(conn, registry_id)
            if row is None or row["version"] != version:
                await store.drop_waiting(conn, registry_id=registry_id, version=version)
                continue
            plan = await make_plan(
                conn,
                model=known_model(row),
                trigger=trigger,
                profile=state.profile,
                catalogue=catalogue,
                waiting_only=group["domains"],
            )
            if plan.requests:
                await store_plan(conn, plan, cause=None)
                assigned += len(plan.requests)
            still_waiting = {u.domain: u.reason for u in plan.unassignable}
            assigned_now = {r.domain for r in plan.requests}
            await store.settle_waiting(
                conn,
                registry_id=registry_id,
                version=version,
                trigger=trigger,
                still_waiting=still_waiting,
                ended=[d for d in group["domains"] if d not in still_waiting and d not in assigned_now],
                at=moment,
            )
    return assigned


def wake_planning(state: ServiceState) -> None:
    """Something may have freed a lab (accredited, reinstated, a result in): try waiting domains now."""
    wake: asyncio.Event | None = state.extras.get(PLANNING_WAKE_KEY)
    if wake is not None:
        wake.set()


async def watch_planning(state: ServiceState) -> None:
    """Plan due periodic cycles and retry waiting domains every planning_poll_seconds, or at once when woken."""
    settings: EvaluationsSettings = state.settings  # type: ignore[assignment]
    wake = state.extras.setdefault(PLANNING_WAKE_KEY, asyncio.Event())
    while True:
        wake.clear()
        try:
            while await plan_periodic_once(state) == PLANNING_BATCH:
                pass
            await assign_waiting_once(state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("planning watch failed; retrying at the next poll")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settings.planning_poll_seconds):
                await wake.wait()


async def evaluations_metrics(state: ServiceState) -> list[Metric]:
    """Evaluations' own gauges on /metrics: requests by state, domains waiting for a lab, lab results unread."""
    counts = await store.request_counts(state.db)
    reader, consumers = state.extras.get(LAB_RESULTS_KEY, (None, {}))
    in_flight: dict[str, int] = {}
    for lab_consumer in consumers.values():
        for topic, count in lab_consumer.in_flight.items():
            in_flight[topic] = in_flight.get(topic, 0) + count
    lag = await consumer_lag(reader, in_flight)
    return [
        Metric("evaluation_requests", "Evaluation requests by status.", counts["by_status"], "status"),
        Metric("evaluation_requests_overdue", "Open requests past their deadline.", counts["overdue"]),
        Metric("domains_waiting_for_a_lab", "Required domains no lab could take yet.", counts["waiting"]),
        Metric("lab_results_lag", "Lab results on lab topics not yet applied, by topic.", lag, "topic"),
    ]
