"""Events enforcement publishes: case lifecycle on enforcement.cases.v1, model standing on
enforcement.standing.v1 (which intake serves to third parties)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from ..envelope import EventData
from ..topicdef import TopicDefinition


class CaseOpened(EventData):
    """Enforcement opened a case against a model for one rule (once per model and rule)."""

    event_type: ClassVar[str] = "CaseOpened"
    producer: ClassVar[str] = "enforcement"

    case_id: str
    registry_id: str
    rule: str = Field(description="Rule id, e.g. compute_discrepancy.")
    summary: str
    opened_at: datetime
    evidence_event_id: str = Field(description="Id of the event that triggered the case.")


class CaseStatusChanged(EventData):
    """A case moved from one workflow status to another."""

    event_type: ClassVar[str] = "CaseStatusChanged"
    producer: ClassVar[str] = "enforcement"

    case_id: str
    registry_id: str
    rule: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    changed_at: datetime


class ActionKind(StrEnum):
    WARNING = "warning"
    COMPLIANCE_ORDER = "compliance_order"
    SUSPENSION = "suspension"
    PENALTY = "penalty"
    REINSTATEMENT = "reinstatement"


class ActionTaken(EventData):
    """An enforcement action: warning, compliance order, suspension, penalty or reinstatement."""

    event_type: ClassVar[str] = "ActionTaken"
    producer: ClassVar[str] = "enforcement"

    action_id: str
    case_id: str
    registry_id: str
    kind: ActionKind
    summary: str
    amount: str | None = Field(default=None, description="Decimal amount, for penalties.")
    currency: str | None = None
    effective_at: datetime
    actor: str


class Standing(StrEnum):
    REGISTERED_GOOD_STANDING = "registered_good_standing"
    UNDER_REVIEW = "under_review"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class StandingChanged(EventData):
    """A model's standing as third parties must see it changed."""

    event_type: ClassVar[str] = "StandingChanged"
    producer: ClassVar[str] = "enforcement"

    registry_id: str
    standing: Standing
    reasons: list[str]
    case_ids: list[str] = Field(default_factory=list)
    effective_at: datetime


ENFORCEMENT_CASES = TopicDefinition(
    name="enforcement.cases.v1",
    producer="enforcement",
    description="Enforcement cases opened, their transitions and the actions taken.",
    events=(CaseOpened, CaseStatusChanged, ActionTaken),
    consumers=("intake",),
)
ENFORCEMENT_STANDING = TopicDefinition(
    name="enforcement.standing.v1",
    producer="enforcement",
    description="Model standing changes, for the public lookup served by intake.",
    events=(StandingChanged,),
    consumers=("intake",),
)

TOPICS: tuple[TopicDefinition, ...] = (ENFORCEMENT_CASES, ENFORCEMENT_STANDING)
