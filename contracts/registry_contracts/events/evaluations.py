"""Events of the evaluations service, and the lab-facing events on each lab's own topics.

Internal: evaluations.plans.v1 (plans) and evaluations.outcomes.v1 (completed, overdue, refused).
Lab-facing: `evaluations.requests.<lab_id>.v1` (EvaluationRequested, produced by the registry, readable only
by that lab) and `labs.<lab_id>.results.v1` (EvaluationResultSubmitted, written only by that lab). Lab-facing
payloads are redacted: what the evaluation needs, never the developer's confidential fields.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from ..envelope import EventData
from ..topicdef import TopicDefinition
from .common import Tier


class PlannedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    request_id: str
    domain: str
    lab_id: str
    deadline: datetime


class UnassignedDomain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    domain: str
    reason: str


class EvaluationsPlanned(EventData):
    """Evaluations decided which evaluations a model version needs and who runs them."""

    event_type: ClassVar[str] = "EvaluationsPlanned"
    producer: ClassVar[str] = "evaluations"

    registry_id: str
    version: int = Field(ge=1)
    tier: Tier
    required_domains: list[str]
    requests: list[PlannedRequest]
    unassigned: list[UnassignedDomain] = Field(default_factory=list)
    planned_at: datetime
    rule_profile_id: str
    trigger: str | None = Field(
        default=None,
        description="Why it was planned: registration, substantial_amendment, incident, periodic or regulator_request.",
    )
    trigger_reference: str | None = Field(
        default=None, description="Which occurrence: the incident id, the periodic cycle, the regulator's reference."
    )


class EvaluationVerdict(StrEnum):
    PASS = "pass"
    CONCERN = "concern"
    FAIL = "fail"


class DomainVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    domain: str
    verdict: EvaluationVerdict
    scores: dict[str, float] = Field(default_factory=dict, description="Suite id -> score.")


class EvaluationCompleted(EventData):
    """An assigned lab's result for a model version was accepted and judged."""

    event_type: ClassVar[str] = "EvaluationCompleted"
    producer: ClassVar[str] = "evaluations"

    registry_id: str
    version: int = Field(ge=1)
    request_id: str
    lab_id: str
    domain: DomainVerdict
    overall: EvaluationVerdict = Field(description="Worst verdict across the model version's completed domains.")
    late: bool = False
    completed_at: datetime


class EvaluationDeadlineMissed(EventData):
    """An evaluation request passed its deadline without an accepted result."""

    event_type: ClassVar[str] = "EvaluationDeadlineMissed"
    producer: ClassVar[str] = "evaluations"

    registry_id: str
    version: int = Field(ge=1)
    request_id: str
    lab_id: str
    domain: str
    deadline: datetime
    detected_at: datetime


class EvaluationAccessRefused(EventData):
    """A lab reported that the developer refused it the access an evaluation needs."""

    event_type: ClassVar[str] = "EvaluationAccessRefused"
    producer: ClassVar[str] = "evaluations"

    registry_id: str
    version: int = Field(ge=1)
    request_id: str
    lab_id: str
    detail: str
    reported_at: datetime


class RequestedSuite(BaseModel):
    """One suite the lab must score: its id and version, what the score measures, and its scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    suite_id: str
    version: str
    name: str
    score_description: str
    score_min: float
    score_max: float
    required_inputs: list[str] = Field(default_factory=list, description="What the developer must provide.")


class EvaluationRequested(EventData):
    """Sent to one lab on its own topic: evaluate this model version in this domain by the deadline."""

    event_type: ClassVar[str] = "EvaluationRequested"
    producer: ClassVar[str] = "evaluations"

    request_id: str
    registry_id: str
    version: int = Field(ge=1)
    model_name: str
    developer_legal_name: str
    domain: str
    suite_ids: list[str]
    deadline: datetime
    access_instructions: str = Field(description="How the lab gets evaluation access (never weights or secrets).")
    suites: list[RequestedSuite] = Field(
        default_factory=list, description="Each requested suite's version and score scale (thresholds stay internal)."
    )


class EvaluationResultSubmitted(EventData):
    """A lab's result for one request, on the lab's own result topic (or through the HTTP fallback)."""

    event_type: ClassVar[str] = "EvaluationResultSubmitted"
    producer: ClassVar[str] = "lab"

    request_id: str
    lab_id: str
    registry_id: str
    version: int = Field(ge=1)
    suite_scores: dict[str, float] = Field(description="Suite id -> score on the suite's scale.")
    access_refused: bool = False
    notes: str | None = None
    submitted_at: datetime


EVALUATIONS_PLANS = TopicDefinition(
    name="evaluations.plans.v1",
    producer="evaluations",
    description="Evaluation plans: required domains and the labs assigned.",
    events=(EvaluationsPlanned,),
    consumers=("enforcement",),
)
EVALUATIONS_OUTCOMES = TopicDefinition(
    name="evaluations.outcomes.v1",
    producer="evaluations",
    description="Evaluation results judged, overdue requests and refused access.",
    events=(EvaluationCompleted, EvaluationDeadlineMissed, EvaluationAccessRefused),
    consumers=("enforcement", "intake"),
)

TOPICS: tuple[TopicDefinition, ...] = (EVALUATIONS_PLANS, EVALUATIONS_OUTCOMES)


LAB_RESULT_TOPIC_PATTERN = r"^labs\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.results\.v1$"
"""Every lab's result topic (lab ids are lower-case letters, digits and inner hyphens)."""


def lab_consumer_group(lab_id: str) -> str:
    """The consumer group a lab reads its request topic with (its Kafka ACLs allow this group only)."""
    return f"lab-{lab_id}"


def lab_id_of_result_topic(topic: str) -> str | None:
    """The lab id in `labs.<lab_id>.results.v1`, or None for any other topic name."""
    return topic.split(".")[1] if re.match(LAB_RESULT_TOPIC_PATTERN, topic) else None


def lab_request_topic(lab_id: str) -> TopicDefinition:
    """The topic only `lab_id` may read: its evaluation requests."""
    return TopicDefinition(
        name=f"evaluations.requests.{lab_id}.v1",
        producer="evaluations",
        description=f"Evaluation requests for lab {lab_id} (redacted payloads).",
        events=(EvaluationRequested,),
        partitions=1,
        consumers=(f"lab:{lab_id}",),
    )


def lab_result_topic(lab_id: str) -> TopicDefinition:
    """The topic only `lab_id` may write: its evaluation results."""
    return TopicDefinition(
        name=f"labs.{lab_id}.results.v1",
        producer=f"lab:{lab_id}",
        description=f"Evaluation results from lab {lab_id}.",
        events=(EvaluationResultSubmitted,),
        partitions=1,
        consumers=("evaluations",),
    )


def lab_asyncapi(*, production_host: str = "kafka.registry.example:9093") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of what a lab sees: its request topic (receive) and result topic (send).

    Channel addresses carry the lab id as a parameter; payload schemas are the contracts' own, hoisted into
    components so every `$ref` resolves within the document.
    """
    from ..envelope import Envelope

    lab_events = {"EvaluationRequested": EvaluationRequested, "EvaluationResultSubmitted": EvaluationResultSubmitted}
    refs, top = models_json_schema(
        [(Envelope[event], "serialization") for event in lab_events.values()],  # type: ignore[valid-type]
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = top.get("$defs", {})

    def lab_id() -> dict[str, Any]:  # a fresh dict per use: YAML would otherwise emit anchors
        return {"description": "The lab's id, as accredited (lower-case letters, digits, inner hyphens)."}

    def message(name: str, event: type[EventData], summary: str) -> dict[str, Any]:
        return {
            "name": name,
            "title": event.cloudevents_type(),
            "summary": summary,
            "contentType": "application/json",
            "payload": refs[(Envelope[event], "serialization")],  # type: ignore[valid-type]
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The registry id of the model (the envelope subject)."},
                    "bindingVersion": "0.5.0",
                }
            },
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Frontier AI model registry: the evaluation lab interface",
            "version": "1.0.0",
            "description": (
                "What an accredited evaluation lab reads and writes. Each lab has its own Kafka principal "
                "(`lab-<labId>`, SASL/SCRAM-SHA-512) that may read only its request topic, with only its "
                "consumer group `lab-<labId>`, and write only its result topic. Payloads are CloudEvents 1.0 "
                "envelopes in structured JSON mode; requests are redacted (never the developer's confidential "
                "fields). Labs that cannot run a Kafka client use the HTTP fallback: GET and POST "
                "/v1/labs/{labId}/requests and /v1/labs/{labId}/results on the evaluations service."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": production_host,
                "protocol": "kafka-secure",
                "description": "The agency's cluster: SASL_SSL with SCRAM-SHA-512.",
                "security": [{"$ref": "#/components/securitySchemes/labScram"}],
            },
            "local": {"host": "127.0.0.1:19092", "protocol": "kafka", "description": "The local development stack."},
        },
        "channels": {
            "labRequests": {
                "address": "evaluations.requests.{labId}.v1",
                "description": "Evaluation requests for one lab, produced by the registry. One partition.",
                "parameters": {"labId": lab_id()},
                "messages": {"EvaluationRequested": {"$ref": "#/components/messages/EvaluationRequested"}},
            },
            "labResults": {
                "address": "labs.{labId}.results.v1",
                "description": "The lab's results, consumed by the registry's evaluations service. One partition.",
                "parameters": {"labId": lab_id()},
                "messages": {"EvaluationResultSubmitted": {"$ref": "#/components/messages/EvaluationResultSubmitted"}},
            },
        },
        "operations": {
            "receiveEvaluationRequests": {
                "action": "receive",
                "channel": {"$ref": "#/channels/labRequests"},
                "summary": "Read requests with consumer group lab-<labId>; commit after your result is acknowledged.",
                "messages": [{"$ref": "#/channels/labRequests/messages/EvaluationRequested"}],
            },
            "sendEvaluationResults": {
                "action": "send",
                "channel": {"$ref": "#/channels/labResults"},
                "summary": "One result per request: every requested suite scored, or access_refused=true.",
                "messages": [{"$ref": "#/channels/labResults/messages/EvaluationResultSubmitted"}],
            },
        },
        "components": {
            "schemas": schemas,
            "messages": {
                "EvaluationRequested": message(
                    "EvaluationRequested", EvaluationRequested, "Evaluate this model version in this domain."
                ),
                "EvaluationResultSubmitted": message(
                    "EvaluationResultSubmitted", EvaluationResultSubmitted, "The lab's scores for one request."
                ),
            },
            "securitySchemes": {
                "labScram": {
                    "type": "scramSha512",
                    "description": "Username lab-<labId>; the password is issued by the agency at onboarding.",
                }
            },
        },
    }
