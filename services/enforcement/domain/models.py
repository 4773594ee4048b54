"""The enforcement domain's values: a case, its timeline entries, actions, and what each operation changes.

All are frozen pydantic models: handlers store them (the store adds its own version column for
optimistic concurrency) and map them onto contract events; the domain never mutates them.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from services.enforcement.domain._base import FrozenModel, NonBlank
from services.enforcement.domain.penalties import PenaltyRegime
from services.enforcement.domain.rules import RuleId
from services.enforcement.domain.statuses import (
    CaseStatus,
    DecisionOutcome,
    ResolutionReason,
    Standing,
    TimelineKind,
)


class Case(FrozenModel):
    """One case per (model key, rule) while open: the state the store keeps in its cases table."""

    id: NonBlank
    model_key: NonBlank
    registry_id: str | None
    rule: RuleId
    status: CaseStatus
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    profile_id: NonBlank  # the rule profile the opening breach was judged under
    breach_count: int = Field(ge=1)
    first_breach_at: AwareDatetime
    last_breach_at: AwareDatetime
    summary: NonBlank  # the opening breach's summary, for queues and lists
    assigned_officer: str | None = None
    response_due_at: AwareDatetime | None = None
    decision: DecisionOutcome | None = None
    decided_at: AwareDatetime | None = None
    appeal_deadline_at: AwareDatetime | None = None  # None once the window is gone or an appeal was heard
    resolution: ResolutionReason | None = None
    closed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _status_matches_its_fields(self) -> Case:
        if (self.status is CaseStatus.CLOSED) != (self.resolution is not None):
            raise ValueError("resolution must be set exactly when status is 'closed'")
        if self.status is CaseStatus.DECIDED and self.decision is None:
            raise ValueError("a decided case needs its decision")
        return self


class TimelineEntry(FrozenModel):
    """One thing that happened to a case, as an officer reads it; the store appends, never edits."""

    case_id: NonBlank
    at: AwareDatetime
    kind: TimelineKind
    actor: NonBlank  # officer id, developer id, or "system"
    summary: NonBlank
    details: tuple[str, ...] = ()
    from_status: CaseStatus | None = None
    to_status: CaseStatus | None = None


class ActionKind(StrEnum):
    """Enforcement actions; each is an event published to the other services."""

    WARNING = "warning"
    COMPLIANCE_ORDER = "compliance_order"
    SUSPENSION = "suspension"
    PENALTY = "penalty"
    REINSTATEMENT = "reinstatement"

    @property
    def description(self) -> str:
        """What the action does."""
        return _ACTION_DESCRIPTIONS[self]


_ACTION_DESCRIPTIONS = {
    ActionKind.WARNING: "A formal warning to the developer; no other consequence.",
    ActionKind.COMPLIANCE_ORDER: "An order to comply (e.g. file, correct, give access) by a date.",
    ActionKind.SUSPENSION: "The model is suspended: third parties must stop using it.",
    ActionKind.PENALTY: "A financial penalty within the applicable regime's maximum.",
    ActionKind.REINSTATEMENT: "A suspension is lifted; the model may be used again.",
}


class ActionTaken(FrozenModel):
    """An enforcement action, event-like: what, on which case and model, effective when, and why."""

    action_id: NonBlank
    kind: ActionKind
    case_id: NonBlank
    model_key: NonBlank
    registry_id: str | None
    rule: RuleId
    actor: NonBlank
    reason: NonBlank
    taken_at: AwareDatetime
    effective_at: AwareDatetime
    amount: Decimal | None = None  # penalties only
    currency: str | None = None  # penalties only
    penalty_regime: PenaltyRegime | None = None  # penalties only
    comply_by: AwareDatetime | None = None  # compliance orders only
    interim: bool = False  # a suspension imposed before the case was decided
    implied_standing: Standing | None = None  # the standing change this action implies, if any
    summary: NonBlank

    @model_validator(mode="after")
    def _money_only_on_penalties(self) -> ActionTaken:
        is_penalty = self.kind is ActionKind.PENALTY
        if is_penalty != (self.amount is not None and self.currency is not None):
            raise ValueError("amount and currency are required on penalties and only on penalties")
        return self


class CaseChange(FrozenModel):
    """What one domain operation did: the case's new state and the timeline entries to append.

    `opened` says whether the store inserts a new case or updates the existing one.
    `response_due_at` is a deadline this change set, to be stored durably and handled by
    `handle_response_deadline_passed` when it passes. `action` is the action taken, if any.
    """

    case: Case
    timeline: tuple[TimelineEntry, ...]
    opened: bool = False
    response_due_at: AwareDatetime | None = None
    action: ActionTaken | None = None
