"""The filings other than registrations: requests with explicit units, date checks, and the events they become."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from registry_contracts import ComputeInputs, Developer
from registry_contracts.events.intake import (
    AmendmentKind,
    ComputeAttested,
    IncidentReported,
    ModelStatus,
    TrainingNoticeFiled,
    UsageReported,
)
from services.plumbing.rule_profile import RuleProfile

from .record import RecordFields
from .registration import MAX_CHIPS, MAX_FLOP, ComputeDeclaration, FieldError

MAX_CHIP_HOURS = 1e11  # chip-hours: ten million chips for a year is ~1e11


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainingNoticeRequest(_Strict):
    """Notice of a training run that crosses (or will cross) a threshold; reserves a registry id."""

    developer: Developer
    model_family: str = Field(min_length=1, max_length=200)
    planned_training_flop: float = Field(gt=0, le=MAX_FLOP, description="Planned total training compute, FLOP.")
    chip_type: str | None = Field(default=None, max_length=100)
    chip_count: int | None = Field(default=None, gt=0, le=MAX_CHIPS)
    planned_start: date
    planned_end: date
    threshold_crossed_on: date | None = Field(
        default=None, description="When the run crossed (or is planned to cross) the reporting threshold."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TrainingNoticeRequest:
        if self.planned_end < self.planned_start:
            raise ValueError("planned_end is before planned_start")
        return self


class AmendmentRequest(_Strict):
    """A modification of a registered model; above the profile's fraction of its compute it is a new model."""

    kind: AmendmentKind
    description: str = Field(min_length=1, max_length=20_000)
    modification_compute: ComputeDeclaration | None = Field(
        default=None, description="The modification's own training compute (FLOP) and inputs, if it trained."
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="The version this amends; a different current version answers 409."
    )
    new_model_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required when the modification is a new model."
    )
    planned_deployment_date: date | None = None
    changes: RecordFields | None = Field(default=None, description="Record fields this version changes.")


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. GB")]


class StatusChangeRequest(_Strict):
    status: ModelStatus
    markets: list[CountryCode] = Field(min_length=1, max_length=300, description="ISO 3166-1 alpha-2 codes.")
    effective_date: date


class DesignationRequest(_Strict):
    """The regulator's decision on a model's designation (officers)."""

    designated: bool = Field(description="true: designate the model; false: revoke its designation.")
    reason: str = Field(
        min_length=1, max_length=4000, pattern=r"\S", description="The grounds, as the developer will read them."
    )


class RebuttalRequest(_Strict):
    """The developer's answer to a designation, for the officers who decide whether it stands."""

    arguments: str = Field(
        min_length=1, max_length=20_000, pattern=r"\S", description="Why the designation should be revoked."
    )


class IncidentCategory(StrEnum):
    SERIOUS_INJURY_OR_DEATH = "serious_injury_or_death"
    CBRN_MISUSE = "cbrn_misuse"
    CYBER_MISUSE = "cyber_misuse"
    LOSS_OF_CONTROL = "loss_of_control"
    DECEPTIVE_BEHAVIOUR = "deceptive_behaviour"
    WEIGHTS_COMPROMISED = "weights_compromised"
    OTHER = "other"


class IncidentReportRequest(_Strict):
    """A critical safety incident; its narrative and actions are restricted (encrypted at rest)."""

    category: IncidentCategory
    imminent_risk: bool = Field(description="Imminent risk of death or serious injury (the 24-hour clock).")
    discovered_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset.")
    narrative: str = Field(min_length=1, max_length=100_000)
    actions_taken: str | None = Field(default=None, max_length=100_000)


class AttestationRequest(_Strict):
    """A compute provider's account of a training run it hosted (chip-hours over a period)."""

    provider_name: str = Field(min_length=1, max_length=200)
    customer: Developer
    registry_id: str | None = Field(default=None, max_length=40, description="The model, when the provider knows it.")
    chip_type: str = Field(min_length=1, max_length=100)
    chip_count: int | None = Field(default=None, gt=0, le=MAX_CHIPS)
    chip_hours: float = Field(gt=0, le=MAX_CHIP_HOURS, description="Chip-hours used by the run.")
    period_start: date
    period_end: date
    cluster_id: str | None = Field(default=None, max_length=200)
    utilisation: float | None = Field(default=None, gt=0, le=1, description="Measured utilisation, 0-1.")

    @model_validator(mode="after")
    def _consistent(self) -> AttestationRequest:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.chip_count is not None:
            hours = (self.period_end - self.period_start).days * 24 + 24
            if self.chip_hours > self.chip_count * hours:
                raise ValueError(f"chip_hours exceeds chip_count x the period's {hours} hours")
        return self


class UsageReportRequest(_Strict):
    """A model seen in use, from anyone (a token is optional)."""

    model_name: str = Field(min_length=1, max_length=200)
    developer_name: str | None = Field(default=None, max_length=200)
    registry_id: str | None = Field(default=None, max_length=40)
    seen_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset.")
    context: str | None = Field(default=None, max_length=2000, description="Where it was seen: URL, product.")
    reporter: str | None = Field(default=None, max_length=200, description="Who you are, if you wish to say.")


def not_in_future(values: dict[str, date | datetime | None], *, now: datetime) -> list[FieldError]:
    """Dates of things that already happened cannot be after `now`."""
    errors: list[FieldError] = []
    for field, value in values.items():
        if value is None:
            continue
        late = value > now if isinstance(value, datetime) else value > now.date()
        if late:
            errors.append((field, f"{value} is in the future"))
    return errors


def training_notice_filed(
    request: TrainingNoticeRequest,
    *,
    notice_id: str,
    registry_id: str,
    filed_at: datetime,
    late: bool,
    profile: RuleProfile,
) -> TrainingNoticeFiled:
    return TrainingNoticeFiled(
        registry_id=registry_id,
        notice_id=notice_id,
        developer=request.developer,
        model_family=request.model_family,
        planned_training_flop=request.planned_training_flop,
        chip_type=request.chip_type,
        chip_count=request.chip_count,
        planned_start=request.planned_start,
        planned_end=request.planned_end,
        threshold_crossed_on=request.threshold_crossed_on,
        filed_at=filed_at,
        late=late,
        rule_profile_id=profile.id,
    )


def incident_reported(
    request: IncidentReportRequest,
    *,
    registry_id: str,
    incident_id: str,
    reported_at: datetime,
    late: bool,
    profile: RuleProfile,
) -> IncidentReported:
    """The event leaves the narrative behind: it is restricted and stays in intake."""
    return IncidentReported(
        registry_id=registry_id,
        incident_id=incident_id,
        category=request.category.value,
        imminent_risk=request.imminent_risk,
        discovered_at=request.discovered_at,
        reported_at=reported_at,
        late=late,
        rule_profile_id=profile.id,
    )


def compute_attested(
    request: AttestationRequest, *, attestation_id: str, provider_id: str, attested_at: datetime
) -> ComputeAttested:
    return ComputeAttested(
        attestation_id=attestation_id,
        provider_id=provider_id,
        provider_name=request.provider_name,
        customer=request.customer,
        registry_id=request.registry_id,
        chip_type=request.chip_type,
        chip_count=request.chip_count,
        chip_hours=request.chip_hours,
        period_start=request.period_start,
        period_end=request.period_end,
        cluster_id=request.cluster_id,
        utilisation=request.utilisation,
        attested_at=attested_at,
    )


def unregistered_subject(developer_name: str | None, model_name: str) -> str:
    """The key enforcement opens an unregistered-use case under (see the UsageReported contract)."""
    return f"unregistered:{(developer_name or '').strip().lower()}/{model_name.strip().lower()}"


def usage_reported(
    *,
    report_id: str,
    source: str,
    model_name: str,
    developer_name: str | None,
    registry_id: str | None,
    seen_at: datetime,
    reporter: str | None,
    context: str | None,
) -> UsageReported:
    return UsageReported(
        report_id=report_id,
        source=source,
        reporter=reporter,
        model_name=model_name,
        developer_name=developer_name,
        registry_id=registry_id,
        registered=registry_id is not None,
        seen_at=seen_at,
        context=context,
    )


def cumulative_flop(base_flop: float, modification: ComputeInputs | None) -> float:
    """Training compute counts everything: the base plus every modification."""
    return base_flop + (modification.declared_training_flop if modification else 0.0)
