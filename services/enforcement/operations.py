"""Officer operations as request bodies, shared by the JSON API and the desk: each becomes a domain call on
the stored case, and every error becomes a problem an officer can read (409 for a move the workflow does not
allow, naming the allowed next statuses; 422 for a bad input, naming the field)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.plumbing.http import ProblemError
from services.plumbing.rule_profile import Deadlines, RuleProfile

from .casework import CaseNotFound, Operation
from .domain import (
    ActionKind,
    ActionNotAllowed,
    ActionTaken,
    Case,
    CaseChange,
    CaseStatus,
    DeadlineNotReached,
    DecisionOutcome,
    EnforcementInputError,
    FalseStatementFound,
    IllegalTransition,
    PenaltyAssessment,
    PenaltyRegime,
    ResolutionReason,
    add_note,
    allowed_next_statuses,
    assess_eu_gpai_penalty,
    assess_per_day_penalty,
    assess_raise_penalty,
    assess_sb53_penalty,
    assign_officer,
    impose_penalty,
    issue_compliance_order,
    issue_warning,
    record_developer_response,
    reinstate_model,
    suspend_model,
    transition,
)
from .store import StaleCaseError


def _no_nul(value: str) -> str:
    # PostgreSQL's text and jsonb refuse NUL: said here as a 422, not met there as a 500.
    if "\x00" in value:
        raise ValueError("text cannot contain the NUL character (\\u0000)")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), AfterValidator(_no_nul)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_nul)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseWrite(_Body):
    """Every write names the row version it read (here or in an If-Match header)."""

    row_version: int | None = Field(default=None, ge=1, description="The case's row_version when it was read.")


class TriageBody(CaseWrite):
    reason: Text = "Reviewed by an officer: the breach is worth pursuing."


class AssignBody(CaseWrite):
    officer_id: Text


class NoteBody(CaseWrite):
    text: Text


class NoticeBody(CaseWrite):
    reason: Text


class ResponseBody(CaseWrite):
    summary: Text = Field(description="What the developer said, in a few lines.")


class DecisionBody(CaseWrite):
    decision: DecisionOutcome
    reason: Text


class CloseBody(CaseWrite):
    resolution: ResolutionReason
    reason: Text


class AppealBody(CaseWrite):
    grounds: Text


class TransitionBody(CaseWrite):
    to_status: CaseStatus
    reason: Text
    resolution: ResolutionReason | None = None
    decision: DecisionOutcome | None = None


class EuGpaiInputs(_Body):
    regime: Literal["eu_gpai"]
    worldwide_turnover_eur: Decimal = Field(ge=0, allow_inf_nan=False)


class Sb53Inputs(_Body):
    regime: Literal["sb53"]
    violations: int = Field(ge=1)


class RaiseInputs(_Body):
    regime: Literal["raise"]
    violations: int = Field(ge=1)
    prior_violations: int = Field(default=0, ge=0)


class PerDayInputs(_Body):
    regime: Literal["per_day"]
    notice_served_on: date
    assessed_through: date


PenaltyInputs = Annotated[EuGpaiInputs | Sb53Inputs | RaiseInputs | PerDayInputs, Field(discriminator="regime")]


class ActionBody(CaseWrite):
    kind: ActionKind
    reason: Text
    effective_at: AwareDatetime | None = Field(default=None, description="Suspension/reinstatement; default now.")
    comply_by: AwareDatetime | None = Field(default=None, description="Compliance orders: the date to comply by.")
    interim: bool = Field(default=False, description="Suspension before a decision (rules that allow it).")
    amount: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False, description="Penalties: the amount.")
    penalty: PenaltyInputs | None = Field(default=None, description="Penalties: the regime and its inputs.")


class FalseStatementBody(_Body):
    """An officer's finding that a filing held a false statement. Who found it is the caller (never the body);
    when is now."""

    registry_id: Name = Field(description="The model's registry id, e.g. FMR-2026-000013.")
    version: int = Field(
        ge=1, le=2_147_483_647, description="The version of the model's record whose filing held the statement."
    )
    statement_field: Name = Field(description="Which field of the filing was false, e.g. compute.training_tokens.")
    finding: Text = Field(description="What was found, in a sentence.")

    def as_finding(self, *, found_by: str, found_at: datetime) -> FalseStatementFound:
        """The domain's trigger: this finding, by the caller, now."""
        return FalseStatementFound(
            registry_id=self.registry_id,
            version=self.version,
            statement_field=self.statement_field,
            finding=self.finding,
            found_by=found_by,
            found_at=found_at,
        )


def assess(profile: RuleProfile, inputs: EuGpaiInputs | Sb53Inputs | RaiseInputs | PerDayInputs) -> PenaltyAssessment:
    """The regime's maximum with its reasoning, from the rule profile."""
    match inputs:
        case EuGpaiInputs():
            return assess_eu_gpai_penalty(profile, worldwide_turnover_eur=inputs.worldwide_turnover_eur)
        case Sb53Inputs():
            return assess_sb53_penalty(profile, violations=inputs.violations)
        case RaiseInputs():
            return assess_raise_penalty(profile, violations=inputs.violations, prior_violations=inputs.prior_violations)
        case PerDayInputs():
            return assess_per_day_penalty(
                profile, notice_served_on=inputs.notice_served_on, assessed_through=inputs.assessed_through
            )


def penalty_regimes(profile: RuleProfile) -> list[dict[str, object]]:
    """The regimes the profile defines, their figures, and the inputs each assessment needs."""
    figures = profile.penalties.model_dump(by_alias=True)
    inputs = {
        PenaltyRegime.EU_GPAI: ["worldwide_turnover_eur"],
        PenaltyRegime.SB53: ["violations"],
        PenaltyRegime.RAISE: ["violations", "prior_violations"],
        PenaltyRegime.PER_DAY: ["notice_served_on", "assessed_through"],
    }
    return [
        {"regime": r.value, "description": r.description, "figures": figures[r.value], "inputs": inputs[r]}
        for r in PenaltyRegime
    ]


def operation(body: CaseWrite, *, actor: str, profile: RuleProfile) -> Operation:
    """The domain call an officer's request `body` asks for, by `actor`, under `profile`."""
    deadlines = profile.deadlines

    def run(case: Case, actions: Sequence[ActionTaken], now: datetime) -> CaseChange:
        match body:
            case TriageBody():
                return transition(case, CaseStatus.TRIAGED, actor=actor, reason=body.reason, now=now)
            case AssignBody():
                return assign_officer(case, officer_id=body.officer_id, actor=actor, now=now)
            case NoteBody():
                return add_note(case, actor=actor, text=body.text, now=now)
            case NoticeBody():
                return transition(
                    case,
                    CaseStatus.NOTICE_ISSUED,
                    actor=actor,
                    reason=body.reason,
                    now=now,
                    developer_response_days=deadlines.developer_response_days,
                )
            case ResponseBody():
                return record_developer_response(case, actor=actor, summary=body.summary, now=now)
            case DecisionBody():
                return _transition(case, CaseStatus.DECIDED, body.reason, now, actor, deadlines, decision=body.decision)
            case CloseBody():
                return _transition(
                    case, CaseStatus.CLOSED, body.reason, now, actor, deadlines, resolution=body.resolution
                )
            case AppealBody():
                return _transition(case, CaseStatus.APPEALED, body.grounds, now, actor, deadlines)
            case TransitionBody():
                return _transition(
                    case,
                    body.to_status,
                    body.reason,
                    now,
                    actor,
                    deadlines,
                    decision=body.decision,
                    resolution=body.resolution,
                )
            case ActionBody():
                return _action(case, actions, body, actor=actor, now=now, profile=profile)
        raise AssertionError(f"no operation for {type(body).__name__}")

    return run


def _transition(
    case: Case,
    target: CaseStatus,
    reason: str,
    now: datetime,
    actor: str,
    deadlines: Deadlines,
    *,
    decision: DecisionOutcome | None = None,
    resolution: ResolutionReason | None = None,
) -> CaseChange:
    return transition(
        case,
        target,
        actor=actor,
        reason=reason,
        now=now,
        decision=decision,
        resolution=resolution,
        developer_response_days=deadlines.developer_response_days if target is CaseStatus.NOTICE_ISSUED else None,
        appeal_window_days=deadlines.appeal_window_days if target is CaseStatus.DECIDED else None,
    )


def _action(
    case: Case, actions: Sequence[ActionTaken], body: ActionBody, *, actor: str, now: datetime, profile: RuleProfile
) -> CaseChange:
    action_id = f"ACT-{uuid.uuid4().hex[:12].upper()}"
    common = {"action_id": action_id, "actor": actor, "reason": body.reason, "now": now}
    match body.kind:
        case ActionKind.WARNING:
            return issue_warning(case, **common)  # type: ignore[arg-type]
        case ActionKind.COMPLIANCE_ORDER:
            if body.comply_by is None:
                raise EnforcementInputError("comply_by", "a compliance order needs the date to comply by")
            return issue_compliance_order(case, comply_by=body.comply_by, **common)  # type: ignore[arg-type]
        case ActionKind.SUSPENSION:
            return suspend_model(
                case,
                model_actions=actions,
                effective_at=body.effective_at or now,
                interim=body.interim,
                **common,  # type: ignore[arg-type]
            )
        case ActionKind.REINSTATEMENT:
            return reinstate_model(
                case,
                model_actions=actions,
                effective_at=body.effective_at or now,
                **common,  # type: ignore[arg-type]
            )
        case ActionKind.PENALTY:
            if body.penalty is None:
                raise EnforcementInputError("penalty", "a penalty needs its regime and inputs (see /v1/penalties)")
            if body.amount is None:
                raise EnforcementInputError("amount", "a penalty needs an amount")
            assessment = assess(profile, body.penalty)
            return impose_penalty(case, assessment=assessment, amount=body.amount, **common)  # type: ignore[arg-type]
    raise AssertionError(body.kind)


def problem_for(error: Exception, case_id: str) -> ProblemError:
    """The problem+json answer for an error an officer operation raised."""
    if isinstance(error, CaseNotFound):
        return ProblemError(404, "Not found", f"no case {case_id}")
    if isinstance(error, StaleCaseError):
        return ProblemError(
            409,
            "Case changed since it was read",
            f"{error}; it is now at row_version {error.current_row_version}",
            case_id=case_id,
            current_row_version=error.current_row_version,
        )
    if isinstance(error, IllegalTransition):
        return ProblemError(
            409,
            "Transition not allowed",
            str(error),
            case_id=case_id,
            from_status=str(error.from_status),
            to_status=str(error.to_status),
            allowed_next_statuses=list(error.allowed),
        )
    if isinstance(error, EnforcementInputError):
        return ProblemError(
            422,
            "Invalid request",
            str(error),
            errors=[{"field": error.field, "reason": error.reason}],
        )
    if isinstance(error, ActionNotAllowed | DeadlineNotReached):
        return ProblemError(409, "Action not allowed", str(error), case_id=case_id)
    raise error


DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    CaseNotFound,
    StaleCaseError,
    IllegalTransition,
    EnforcementInputError,
    ActionNotAllowed,
    DeadlineNotReached,
)


def next_statuses(status: str) -> list[str]:
    return sorted(str(s) for s in allowed_next_statuses(CaseStatus(status)))
