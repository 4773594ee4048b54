"""Events of the evaluations service, and the lab-facing events on each lab's own topics.

Internal: evaluations.plans.v1 (plans) and evaluations.outcomes.v1 (completed, overdue, refused).
Lab-facing: `evaluations.requests.<lab_id>.v1` (EvaluationRequested, produced by the registry, readable only
by that lab) and `labs.<lab_id>.results.v1` (EvaluationResultSubmitted, written only by that lab). Lab-facing
payloads are redacted: what the evaluation needs, never the developer's confidential fields.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

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
