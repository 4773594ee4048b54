"""Every Kafka topic of the registry, from one definition: name, owner, partitions, retention, events.

Topic names are `<producer>.<stream>.v<major>`; a breaking change is a new major on a new topic. Producers
declare their topics beside their events; this module gathers them, adds a dead-letter topic per consumer and an
audit-anchor topic per service.
"""

from __future__ import annotations

from .envelope import EventData
from .events import enforcement, evaluations, intake, verification
from .events.audit import AuditAnchored
from .events.dead_letter import MessageDeadLettered
from .events.enforcement import ENFORCEMENT_CASES, ENFORCEMENT_STANDING
from .events.evaluations import EVALUATIONS_OUTCOMES, EVALUATIONS_PLANS, lab_request_topic, lab_result_topic
from .events.intake import INTAKE_FILINGS
from .events.verification import VERIFICATION_OUTCOMES
from .topicdef import FOREVER, WEEK_MS, TopicDefinition

CONSUMER_SERVICES = ("intake", "verification", "evaluations", "enforcement")


def dead_letter_topic(consumer: str) -> TopicDefinition:
    """The dead-letter topic a consumer service owns."""
    return TopicDefinition(
        name=f"{consumer}.dead-letter.v1",
        producer=consumer,
        description=f"Messages the {consumer} service could not process, with the error.",
        events=(MessageDeadLettered,),
        partitions=1,
        retention_ms=4 * WEEK_MS,
    )


def audit_anchor_topic(service: str) -> TopicDefinition:
    """The topic a service publishes its audit chain's anchors on (kept forever: they prove the log's length)."""
    return TopicDefinition(
        name=f"{service}.audit-anchors.v1",
        producer=service,
        description=f"Where the {service} service's audit chain stood, now and then: its newest position and hash.",
        events=(AuditAnchored,),
        partitions=1,
        retention_ms=FOREVER,
    )


BUSINESS_TOPICS: tuple[TopicDefinition, ...] = (
    intake.TOPICS + verification.TOPICS + evaluations.TOPICS + enforcement.TOPICS
)
ALL_TOPICS: tuple[TopicDefinition, ...] = (
    BUSINESS_TOPICS
    + tuple(dead_letter_topic(c) for c in CONSUMER_SERVICES)
    + tuple(audit_anchor_topic(c) for c in CONSUMER_SERVICES)
)


def event_types() -> dict[str, type[EventData]]:
    """CloudEvents `type` -> payload model, for every event on every topic."""
    return {event.cloudevents_type(): event for topic in ALL_TOPICS for event in topic.events}


__all__ = [
    "ALL_TOPICS",
    "BUSINESS_TOPICS",
    "ENFORCEMENT_CASES",
    "ENFORCEMENT_STANDING",
    "EVALUATIONS_OUTCOMES",
    "EVALUATIONS_PLANS",
    "FOREVER",
    "INTAKE_FILINGS",
    "VERIFICATION_OUTCOMES",
    "TopicDefinition",
    "dead_letter_topic",
    "event_types",
    "lab_request_topic",
    "lab_result_topic",
]
