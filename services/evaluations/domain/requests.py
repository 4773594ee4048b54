"""What the planner reads and writes: the model under evaluation, the trigger, and evaluation requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field, field_validator, model_validator

from registry_contracts import Tier

from .catalogue import Suite
from .errors import DescribedEnum, Frozen

# Fixed forever: changing it would change every request id and break replay deduplication.
REQUEST_ID_NAMESPACE = uuid.UUID("5b0e7c7e-1f7a-5d2e-9a53-6f1c2d0e8a41")


class TriggerKind(DescribedEnum):
    """Why evaluations are being planned."""

    REGISTRATION = "registration", "A model was registered (or verified) in a tier that requires evaluations."
    SUBSTANTIAL_AMENDMENT = (
        "substantial_amendment",
        "A new version of the record changed the model materially.",
    )
    INCIDENT = "incident", "A critical safety incident was reported for the model."
    PERIODIC = "periodic", "The periodic (quarterly) re-evaluation came due."
    REGULATOR_REQUEST = "regulator_request", "The regulator asked for evaluations, possibly in extra domains."


# Kinds that recur for the same model version, so each occurrence needs its own reference.
_NEEDS_REFERENCE = frozenset({TriggerKind.INCIDENT, TriggerKind.PERIODIC, TriggerKind.REGULATOR_REQUEST})


class PlanTrigger(Frozen):
    """The event that asked for a plan.

    `reference` identifies the occurrence (incident id, periodic cycle, regulator order number) so two
    incidents on one version get different request ids while a replayed event gets the same ones.
    """

    kind: TriggerKind
    reference: str = Field(default="", max_length=200)
    extra_domains: tuple[str, ...] = ()

    @field_validator("reference")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _fits_kind(self) -> PlanTrigger:
        if self.kind in _NEEDS_REFERENCE and not self.reference:
            raise ValueError(f"reference is required for a {self.kind} trigger (it recurs per version)")
        if self.extra_domains and self.kind is not TriggerKind.REGULATOR_REQUEST:
            raise ValueError(f"extra_domains is only allowed on a regulator_request trigger, not {self.kind}")
        return self


class ModelUnderEvaluation(Frozen):
    """The model version to plan for: its current version, tier and deployment plans."""

    registry_id: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    developer: str = Field(min_length=1)
    model_name: str = Field(default="", description="Public model name, shown to the assigned lab.")
    developer_affiliates: tuple[str, ...] = Field(
        default=(), description="Organisations the developer controls or is controlled by (conflict checks)."
    )
    tier: Tier
    planned_deployment_date: date | None = None
    designated_domains: tuple[str, ...] = Field(
        default=(), description="Domains the regulator designated regardless of tier."
    )

    @field_validator("developer")
    @classmethod
    def _developer_has_a_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("developer must not be blank")
        return value.strip()

    @property
    def organisations(self) -> tuple[str, ...]:
        """The developer and its affiliates: a lab affiliated with any of them is conflicted."""
        return (self.developer, *self.developer_affiliates)


class RequestStatus(DescribedEnum):
    """Where an evaluation request stands."""

    OPEN = "open", "Assigned to a lab; no accepted result yet."
    COMPLETED = "completed", "The lab's result was accepted."
    SUPERSEDED = "superseded", "Replaced by a request for a newer version; results are no longer accepted."
    ACCESS_REFUSED = "access_refused", "The lab reported that the developer refused it evaluation access."


class EvaluationRequest(Frozen):
    """One domain's evaluation of one model version by one lab.

    It carries the suites (with thresholds) it was issued with, so a later catalogue version never
    changes how its result is judged.
    """

    request_id: str = Field(min_length=1)
    registry_id: str = Field(min_length=1)
    model_version: int = Field(ge=1)
    developer: str = Field(min_length=1)
    model_name: str = ""
    domain: str = Field(min_length=1)
    suites: tuple[Suite, ...] = Field(min_length=1)
    lab_id: str = Field(min_length=1)
    trigger: PlanTrigger
    catalogue_version: int = Field(ge=1)
    rule_profile_id: str = Field(min_length=1)
    created_at: datetime
    deadline: datetime
    status: RequestStatus = RequestStatus.OPEN

    @field_validator("created_at", "deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value

    @model_validator(mode="after")
    def _suites_fit_domain(self) -> EvaluationRequest:
        foreign = [s.id for s in self.suites if s.domain != self.domain]
        if foreign:
            raise ValueError(f"suites {foreign} do not belong to domain {self.domain!r}")
        return self

    @property
    def suite_ids(self) -> tuple[str, ...]:
        """Ids of the suites the lab must score."""
        return tuple(s.id for s in self.suites)


def evaluation_request_id(*, registry_id: str, model_version: int, domain: str, trigger: PlanTrigger) -> str:
    """Deterministic request id from model, version, domain and trigger occurrence (never the lab), so a
    replayed event yields the same ids and the store can insert with ON CONFLICT DO NOTHING.
    """
    key = "\x1f".join((registry_id, str(model_version), domain, trigger.kind.value, trigger.reference))
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, key))
