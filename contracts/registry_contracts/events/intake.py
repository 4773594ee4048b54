"""Events intake publishes on intake.filings.v1: one per accepted filing, plus breaches it detects.

Keys (envelope subject): the registry id; for compute attestations, which arrive before the registry knows
which model they belong to, `org:<customer organisation id>`; for usage of an unregistered model,
`unregistered:<developer>/<model name>` (lower-cased), the same key enforcement opens its case under.
These events travel on internal topics and carry confidential compute inputs; restricted fields never do.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
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
    base_model_training_flop: float | None = Field(
        default=None, description="The base model's training compute, when this model modifies one (cumulative tiers)."
    )
    designated: bool = Field(default=False, description="Designated by the regulator regardless of compute.")


class TrainingNoticeFiled(EventData):
    """A developer gave notice of a training run that crosses (or will cross) a threshold."""

    event_type: ClassVar[str] = "TrainingNoticeFiled"
    producer: ClassVar[str] = "intake"

    registry_id: str = Field(description="The registry id reserved for the model being trained.")
    notice_id: str
    developer: Developer
    model_family: str
    planned_training_flop: float = Field(gt=0)
    chip_type: str | None = None
    chip_count: int | None = Field(default=None, gt=0)
    planned_start: date
    planned_end: date
    threshold_crossed_on: date | None = Field(
        default=None, description="When the run crossed (or is planned to cross) the reporting threshold."
    )
    filed_at: datetime
    late: bool = False
    rule_profile_id: str


class AmendmentKind(StrEnum):
    FINE_TUNE = "fine_tune"
    NEW_DATA = "new_data"
    DEPLOYMENT_MODE = "deployment_mode"
    OTHER = "other"


class AmendmentSubmitted(EventData):
    """A new version of a registered model's record (a modification below the new-model fraction)."""

    event_type: ClassVar[str] = "AmendmentSubmitted"
    producer: ClassVar[str] = "intake"

    registry_id: str
    version: int = Field(ge=2)
    base_version: int = Field(ge=1)
    developer: Developer
    model_name: str
    kind: AmendmentKind
    description: str
    modification_compute: ComputeInputs | None = Field(
        default=None, description="The modification's own training compute and inputs, if it trained."
    )
    cumulative_training_flop: float = Field(gt=0, description="Base compute plus every modification so far.")
    planned_deployment_date: date | None = None
    submitted_at: datetime
    rule_profile_id: str


class ModelStatus(StrEnum):
    DEPLOYED = "deployed"
    WITHDRAWN = "withdrawn"
    RETIRED = "retired"


class ModelStatusChanged(EventData):
    """A developer reported a model deployed, withdrawn or retired, in some markets from a date."""

    event_type: ClassVar[str] = "ModelStatusChanged"
    producer: ClassVar[str] = "intake"

    registry_id: str
    status: ModelStatus
    markets: list[str] = Field(description="ISO 3166-1 alpha-2 codes.")
    effective_date: date
    filed_at: datetime
    rule_profile_id: str


class IncidentReported(EventData):
    """A critical safety incident report (its restricted narrative stays in intake)."""

    event_type: ClassVar[str] = "IncidentReported"
    producer: ClassVar[str] = "intake"

    registry_id: str
    incident_id: str
    category: str
    imminent_risk: bool = Field(description="Imminent risk of death or serious injury (the 24-hour clock).")
    discovered_at: datetime
    reported_at: datetime
    late: bool = False
    rule_profile_id: str


class ComputeAttested(EventData):
    """A compute provider attested a training run it hosted (independent evidence of compute)."""

    event_type: ClassVar[str] = "ComputeAttested"
    producer: ClassVar[str] = "intake"

    attestation_id: str
    provider_id: str
    provider_name: str
    customer: Developer
    registry_id: str | None = Field(default=None, description="Set when the provider names the model.")
    chip_type: str
    chip_count: int | None = Field(default=None, gt=0)
    chip_hours: float = Field(gt=0)
    period_start: date
    period_end: date
    cluster_id: str | None = None
    utilisation: float | None = Field(default=None, gt=0, le=1)
    attested_at: datetime


class UsageReported(EventData):
    """A third party reported a model seen in use, or looked up a model the registry does not know."""

    event_type: ClassVar[str] = "UsageReported"
    producer: ClassVar[str] = "intake"

    report_id: str
    source: str = Field(description="usage_report | unknown_lookup")
    reporter: str | None = Field(default=None, description="Who reported it (organisation), if known.")
    model_name: str
    developer_name: str | None = None
    registry_id: str | None = Field(default=None, description="Set when the model is registered.")
    registered: bool
    seen_at: datetime
    context: str | None = Field(default=None, description="Where it was seen (URL, product, platform).")


class ModelDesignationChanged(EventData):
    """The regulator designated a model (at least reportable, whatever its compute), or revoked a designation
    (after the developer's rebuttal, for instance)."""

    event_type: ClassVar[str] = "ModelDesignationChanged"
    producer: ClassVar[str] = "intake"

    registry_id: str
    designation_id: str = Field(description="The decision's filing id, e.g. DES-2026-000001.")
    designated: bool = Field(description="True: designated from now on; false: the designation is revoked.")
    reason: str = Field(description="The regulator's grounds, as the developer is told them.")
    decided_by: str = Field(description="The officer who decided.")
    decided_at: datetime
    rule_profile_id: str


class FilingKind(StrEnum):
    TRAINING_NOTICE = "training_notice"
    REGISTRATION = "registration"
    INCIDENT_REPORT = "incident_report"
    STATUS_CHANGE = "status_change"


class LateFilingRecorded(EventData):
    """Intake accepted a filing after its deadline: recorded as late, and the breach published."""

    event_type: ClassVar[str] = "LateFilingRecorded"
    producer: ClassVar[str] = "intake"

    registry_id: str
    filing_kind: FilingKind
    filing_id: str
    anchor_at: datetime = Field(description="What the deadline counts from (threshold crossing, deployment, ...).")
    due_at: datetime
    filed_at: datetime
    rule_profile_id: str


INTAKE_FILINGS = TopicDefinition(
    name="intake.filings.v1",
    producer="intake",
    description="Every filing intake accepted, in submission order per model, and the late filings it saw.",
    events=(
        RegistrationSubmitted,
        TrainingNoticeFiled,
        AmendmentSubmitted,
        ModelStatusChanged,
        IncidentReported,
        ComputeAttested,
        UsageReported,
        LateFilingRecorded,
        ModelDesignationChanged,
    ),
    consumers=("verification", "evaluations", "enforcement"),
)

TOPICS: tuple[TopicDefinition, ...] = (INTAKE_FILINGS,)
