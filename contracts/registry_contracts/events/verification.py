"""Events verification publishes on verification.outcomes.v1."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..envelope import EventData
from ..topicdef import TopicDefinition
from .common import Developer, Tier


class VerificationStatus(StrEnum):
    CONSISTENT = "consistent"
    DISCREPANCY = "discrepancy"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


class ComputeEstimate(BaseModel):
    """One independent estimate of a run's training compute, with how it was made."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    method: str = Field(
        description="architecture | hardware | attestation | record (for an amendment: the cumulative compute on"
        " record before this version plus the modification)"
    )
    flop: float | None = Field(default=None, description="Point estimate, FLOP; null when none was possible.")
    low_flop: float | None = None
    high_flop: float | None = None
    reasons: list[str] = Field(default_factory=list)


class ComputeVerified(EventData):
    """Verification judged a filing version's declared compute against independent estimates."""

    event_type: ClassVar[str] = "ComputeVerified"
    producer: ClassVar[str] = "verification"

    registry_id: str
    version: int = Field(ge=1)
    developer: Developer
    model_name: str
    status: VerificationStatus
    declared_training_flop: float
    estimates: list[ComputeEstimate]
    tolerance_factor: float
    threshold_flop: float | None = Field(default=None, description="The threshold at stake, if any.")
    declared_tier: Tier
    verified_tier: Tier = Field(description="Tier from the larger of declaration and credible estimates.")
    explanation: str = Field(description="One sentence an officer can read.")
    planned_deployment_date: date | None = None
    verified_at: datetime
    rule_profile_id: str
    run: int = Field(default=1, ge=1, description="Verification run of this version (re-verification adds runs).")
    trigger: str = Field(
        default="filing",
        description="filing (a registration) | amendment (a new version) | attestation (new evidence for a"
        " version already verified) | designation (the regulator designated the model or revoked it)",
    )


VERIFICATION_OUTCOMES = TopicDefinition(
    name="verification.outcomes.v1",
    producer="verification",
    description="Verification outcomes of declared training compute, one per filing version.",
    events=(ComputeVerified,),
    consumers=("evaluations", "enforcement"),
)

TOPICS: tuple[TopicDefinition, ...] = (VERIFICATION_OUTCOMES,)
