"""Events intake publishes on intake.filings.v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from ..envelope import EventData
from ..topicdef import TopicDefinition
from .common import ComputeInputs, Developer


class RegistrationSubmitted(EventData):
    """A developer submitted a model registration (one immutable version of the record)."""

    event_type: ClassVar[str] = "RegistrationSubmitted"
    producer: ClassVar[str] = "intake"

    registry_id: str = Field(description="Human-quotable registry id, e.g. FMR-2026-000042.")
    version: int = Field(ge=1, description="Version of the record this filing created.")
    developer: Developer
    model_name: str
    base_registry_id: str | None = Field(default=None, description="Registry id of the base model.")
    planned_deployment_date: date | None = None
    compute: ComputeInputs
    submitted_at: datetime
    late: bool = False
    rule_profile_id: str


INTAKE_FILINGS = TopicDefinition(
    name="intake.filings.v1",
    producer="intake",
    description="Every filing intake accepted, in submission order per model.",
    events=(RegistrationSubmitted,),
    consumers=("verification",),
)

TOPICS: tuple[TopicDefinition, ...] = (INTAKE_FILINGS,)
