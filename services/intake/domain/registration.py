"""Registrations: the request a developer sends, and the event it becomes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry_contracts import ComputeInputs, Developer, RegistrationSubmitted
from services.plumbing.rule_profile import RuleProfile

MAX_PARAMETERS = 1e15
MAX_TOKENS = 1e17
MAX_FLOP = 1e32


class ComputeDeclaration(ComputeInputs):
    """Declared training compute and its inputs, with the registry's sanity bounds."""

    parameters: float | None = Field(default=None, gt=0, le=MAX_PARAMETERS, description="Total parameters.")
    active_parameters: float | None = Field(
        default=None, gt=0, le=MAX_PARAMETERS, description="Parameters active per token (mixture-of-experts)."
    )
    training_tokens: float | None = Field(default=None, gt=0, le=MAX_TOKENS, description="Unique tokens.")
    declared_training_flop: float = Field(gt=0, le=MAX_FLOP, description="Total training compute, FLOP.")

    @model_validator(mode="after")
    def _consistent(self) -> ComputeDeclaration:
        if self.active_parameters and self.parameters and self.active_parameters > self.parameters:
            raise ValueError("active_parameters cannot exceed parameters")
        if self.training_start and self.training_end and self.training_end < self.training_start:
            raise ValueError("training_end is before training_start")
        return self


class RegistrationRequest(BaseModel):
    """What a developer files to register a model before deploying it."""

    model_config = ConfigDict(extra="forbid")
    developer: Developer
    model_name: str = Field(min_length=1, max_length=200)
    base_registry_id: str | None = Field(default=None, max_length=40)
    planned_deployment_date: date | None = None
    compute: ComputeDeclaration


def format_registry_id(prefix: str, year: int, sequence: int) -> str:
    """Registry ids people can read aloud and quote: PREFIX-YEAR-NNNNNN."""
    return f"{prefix}-{year}-{sequence:06d}"


def is_registration_late(*, planned_deployment: date | None, submitted_at: datetime, profile: RuleProfile) -> bool:
    """Late when filed fewer than the profile's required days before the planned first deployment."""
    if planned_deployment is None:
        return False
    required = timedelta(days=profile.deadlines.registration_days_before_deployment)
    return submitted_at.date() > planned_deployment - required


def registration_submitted(
    request: RegistrationRequest,
    *,
    registry_id: str,
    version: int,
    submitted_at: datetime,
    profile: RuleProfile,
) -> RegistrationSubmitted:
    """The event a accepted registration becomes."""
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
    )
