"""Every Kafka topic of the registry, from one definition: name, owner, partitions, retention, events.

Topic names are `<producer>.<stream>.v<major>`; a breaking change is a new major on a new topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .envelope import EventData
from .events.dead_letter import MessageDeadLettered
from .events.enforcement import CaseOpened
from .events.evaluations import EvaluationsPlanned
from .events.intake import RegistrationSubmitted
from .events.verification import ComputeVerified

WEEK_MS = 7 * 24 * 3600 * 1000
FOREVER = -1  # filings are the record: keep them, compaction is never safe for an event log


@dataclass(frozen=True)
class TopicDefinition:
    name: str
    producer: str
    description: str
    events: tuple[type[EventData], ...]
    partitions: int = 6
    retention_ms: int = FOREVER
    consumers: tuple[str, ...] = field(default_factory=tuple)


INTAKE_FILINGS = TopicDefinition(
    name="intake.filings.v1",
    producer="intake",
    description="Every filing intake accepted, in submission order per model.",
    events=(RegistrationSubmitted,),
    consumers=("verification",),
)
VERIFICATION_OUTCOMES = TopicDefinition(
    name="verification.outcomes.v1",
    producer="verification",
    description="Verification outcomes of declared training compute, one per filing version.",
    events=(ComputeVerified,),
    consumers=("evaluations", "enforcement"),
)
EVALUATIONS_PLANS = TopicDefinition(
    name="evaluations.plans.v1",
    producer="evaluations",
    description="Evaluation plans: required domains and the labs assigned.",
    events=(EvaluationsPlanned,),
    consumers=("enforcement",),
)
ENFORCEMENT_CASES = TopicDefinition(
    name="enforcement.cases.v1",
    producer="enforcement",
    description="Enforcement cases opened and their transitions.",
    events=(CaseOpened,),
    consumers=("intake",),
)

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


BUSINESS_TOPICS: tuple[TopicDefinition, ...] = (
    INTAKE_FILINGS,
    VERIFICATION_OUTCOMES,
    EVALUATIONS_PLANS,
    ENFORCEMENT_CASES,
)
ALL_TOPICS: tuple[TopicDefinition, ...] = BUSINESS_TOPICS + tuple(dead_letter_topic(c) for c in CONSUMER_SERVICES)


def event_types() -> dict[str, type[EventData]]:
    """CloudEvents `type` -> payload model, for every event on every topic."""
    return {event.cloudevents_type(): event for topic in ALL_TOPICS for event in topic.events}
