"""Registrations: the request a developer sends, the checks that need today's date, and the event it becomes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field, model_validator

from registry_contracts import ComputeInputs, Developer, RegistrationSubmitted, Tier
from services.plumbing.rule_profile import RuleProfile

from .record import MAX_TOKENS, RecordFields

MAX_PARAMETERS = 1e15
MAX_FLOP = 1e32  # FLOP: a million times the largest runs of 2025
MAX_CHIPS = 10_000_000
MAX_HOURS = 100_000  # wall-clock hours: over eleven years

FieldError = tuple[str, str]  # (dotted field, reason), listed in the problem+json `errors`


class ComputeDeclaration(ComputeInputs):
    """Declared training compute (FLOP) and its inputs, with the registry's sanity bounds."""

    parameters: float | None = Field(default=None, gt=0, le=MAX_PARAMETERS, description="Total parameters.")
    active_parameters: float | None = Field(
        default=None, gt=0, le=MAX_PARAMETERS, description="Parameters active per token (mixture-of-experts)."
    )
    training_tokens: float | None = Field(default=None, gt=0, le=MAX_TOKENS, description="Unique tokens.")
    declared_training_flop: float = Field(gt=0, le=MAX_FLOP, description="Total training compute, FLOP.")
    epochs: float | None = Field(default=None, gt=0, le=1000)
    chip_count: int | None = Field(default=None, gt=0, le=MAX_CHIPS)
    training_hours: float | None = Field(default=None, gt=0, le=MAX_HOURS, description="Wall-clock hours.")

    @model_validator(mode="after")
    def _consistent(self) -> ComputeDeclaration:
        if self.active_parameters and self.parameters and self.active_parameters > self.parameters:
            raise ValueError("active_parameters cannot exceed parameters")
        if self.training_start and self.training_end and self.training_end < self.training_start:
            raise ValueError("training_end is before training_start")
        return self


class RegistrationRequest(RecordFields):
    """What a developer files to register a model before deploying it (the record)."""

    developer: Developer
    model_name: str = Field(min_length=1, max_length=200)
    base_registry_id: str | None = Field(default=None, max_length=40)
    training_notice_id: str | None = Field(
        default=None, max_length=40, description="A training notice whose reserved registry id this model takes."
    )
    planned_deployment_date: date | None = None
    compute: ComputeDeclaration


def completed_training_errors(compute: ComputeInputs, *, today: date, prefix: str = "compute") -> list[FieldError]:
    """Training already done cannot have started or ended in the future."""
    errors: list[FieldError] = []
    for name in ("training_start", "training_end"):
        value = getattr(compute, name)
        if value is not None and value > today:
            errors.append((f"{prefix}.{name}", f"{value} is in the future; a registered model's training is done"))
    return errors


def format_registry_id(prefix: str, year: int, sequence: int) -> str:
    """Registry ids people can read aloud and quote: PREFIX-YEAR-NNNNNN."""
    return f"{prefix}-{year}-{sequence:06d}"


def registration_due(planned_deployment: date | None, profile: RuleProfile) -> date | None:
    """The last day a registration is on time: the profile's days before the planned first deployment."""
    if planned_deployment is None:
        return None
    return planned_deployment - timedelta(days=profile.deadlines.registration_days_before_deployment)


def is_registration_late(*, planned_deployment: date | None, submitted_at: datetime, profile: RuleProfile) -> bool:
    """Late when filed fewer than the profile's required days before the planned first deployment."""
    due = registration_due(planned_deployment, profile)
    return due is not None and submitted_at.date() > due


def implied_tier(training_flop: float, *, biological: bool, profile: RuleProfile) -> Tier:
    """The tier a declared compute implies (public), from the profile's thresholds."""
    thresholds = profile.thresholds
    reportable = thresholds.biological_sequence_flop if biological else thresholds.reportable_flop
    if training_flop > thresholds.frontier_flop:
        return Tier.FRONTIER
    if training_flop > reportable:
        return Tier.REPORTABLE
    if training_flop * thresholds.near_threshold_factor > reportable:
        return Tier.NEAR_THRESHOLD
    return Tier.BELOW


def registration_submitted(
    request: RegistrationRequest,
    *,
    registry_id: str,
    version: int,
    submitted_at: datetime,
    profile: RuleProfile,
    base_model_training_flop: float | None = None,
) -> RegistrationSubmitted:
    """The event an accepted registration becomes (confidential compute inputs; nothing restricted)."""
    return RegistrationSubmitted(
        registry_id=registry_id,
        version=version,
        developer=request.developer,
        model_name=request.model_name,
        base_registry_id=request.base_registry_id,
        planned_deployment_date=request.planned_deployment_date,
        compute=ComputeInputs.model_validate(request.compute.model_dump()),
        submitted_at=submitted_at,
        late=is_registration_late(
            planned_deployment=request.planned_deployment_date, submitted_at=submitted_at, profile=profile
        ),
        rule_profile_id=profile.id,
        base_model_training_flop=base_model_training_flop,
    )
