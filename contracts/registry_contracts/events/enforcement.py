"""Events enforcement publishes on enforcement.cases.v1."""

from __future__ import annotations

from datetime import datetime
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


ENFORCEMENT_CASES = TopicDefinition(
    name="enforcement.cases.v1",
    producer="enforcement",
    description="Enforcement cases opened and their transitions.",
    events=(CaseOpened,),
    consumers=("intake",),
)

TOPICS: tuple[TopicDefinition, ...] = (ENFORCEMENT_CASES,)
