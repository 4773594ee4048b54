"""Events evaluations publishes on evaluations.plans.v1."""

from __future__ import annotations

from datetime import datetime
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


EVALUATIONS_PLANS = TopicDefinition(
    name="evaluations.plans.v1",
    producer="evaluations",
    description="Evaluation plans: required domains and the labs assigned.",
    events=(EvaluationsPlanned,),
    consumers=("enforcement",),
)

TOPICS: tuple[TopicDefinition, ...] = (EVALUATIONS_PLANS,)
