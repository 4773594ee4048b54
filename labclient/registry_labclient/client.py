"""A lab's Kafka client: its own request topic in, its own result topic out, nothing else.

Requests are read with the lab's consumer group and committed only after the result was acknowledged by
the brokers (acks=all), so a crash re-delivers the request rather than losing it; the registry ignores a
result it has already accepted (it answers `duplicate`).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from registry_contracts import Envelope, new_envelope
from registry_contracts.events.evaluations import (
    EvaluationRequested,
    EvaluationResultSubmitted,
    lab_consumer_group,
    lab_request_topic,
    lab_result_topic,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    """What the lab found: a score per requested suite, or that the developer refused access."""

    suite_scores: dict[str, float] = field(default_factory=dict)
    access_refused: bool = False
    notes: str | None = None


Evaluator = Callable[[EvaluationRequested], Awaitable[Evaluation]]


def result_for(
    lab_id: str, request: Envelope[EvaluationRequested], evaluation: Evaluation
) -> Envelope[EvaluationResultSubmitted]:
    """The result envelope answering `request` (same correlation id; caused by the request)."""
    data = request.data
    result = EvaluationResultSubmitted(
        request_id=data.request_id,
        lab_id=lab_id,
        registry_id=data.registry_id,
        version=data.version,
        suite_scores=evaluation.suite_scores,
        access_refused=evaluation.access_refused,
        notes=evaluation.notes,
        submitted_at=datetime.now(UTC),
    )
    return new_envelope(
        result, subject=data.registry_id, correlation_id=request.correlationid, causation_id=str(request.id)
    )


class LabClient:
    """Connects as the lab's own principal; reads only its request topic and writes only its result topic."""

    def __init__(
        self,
        *,
        lab_id: str,
        bootstrap_servers: str,
        username: str | None = None,
        password: str | None = None,
        security_protocol: str = "PLAINTEXT",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.lab_id = lab_id
        self.request_topic = lab_request_topic(lab_id).name
        self.result_topic = lab_result_topic(lab_id).name
        options: dict[str, Any] = {"bootstrap_servers": bootstrap_servers.split(",")}
        if security_protocol.upper().startswith("SASL"):
            options |= {
                "security_protocol": security_protocol.upper(),
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": username or f"lab-{lab_id}",
                "sasl_plain_password": password or "",
            }
            if security_protocol.upper() == "SASL_SSL":
                options["ssl_context"] = ssl_context or ssl.create_default_context()
        self._consumer = AIOKafkaConsumer(
            self.request_topic,
            group_id=lab_consumer_group(lab_id),
            client_id=f"lab-{lab_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **options,
        )
        self._producer = AIOKafkaProducer(client_id=f"lab-{lab_id}", acks="all", enable_idempotence=True, **options)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self._producer.start()
        try:
            await self._consumer.start()
        except Exception:
            await self._producer.stop()
            raise

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def submit(self, result: Envelope[EvaluationResultSubmitted]) -> None:
        """Publish a result on the lab's result topic and wait until the brokers acknowledge it."""
        await self._producer.send_and_wait(
            self.result_topic,
            value=result.model_dump_json().encode(),
            key=result.subject.encode(),
            headers=[
                ("ce_type", result.type.encode()),
                ("ce_id", str(result.id).encode()),
                ("content-type", b"application/cloudevents+json"),
            ],
        )

    async def run(self, evaluate: Evaluator, *, stop_after: int | None = None) -> int:
        """Answer requests until cancelled (or after `stop_after` requests); returns how many were answered.

        A message that is not a valid request is logged and skipped: it cannot be answered.
        """
        answered = 0
        async for record in self._consumer:
            try:
                request = Envelope[EvaluationRequested].model_validate_json(record.value or b"")
            except ValidationError:
                log.exception("skipping an unreadable request at %s[%d]@%d", record.topic, record.partition,
                              record.offset)  # fmt: skip
            else:
                evaluation = await evaluate(request.data)
                await self.submit(result_for(self.lab_id, request, evaluation))
                answered += 1
            await self._consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})
            if stop_after is not None and answered >= stop_after:
                break
        return answered
