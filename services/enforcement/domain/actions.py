"""Enforcement actions: warning, compliance order, suspension, penalty, reinstatement.

Each function checks the action is allowed, and returns a CaseChange carrying the ActionTaken (the
event to publish) and its timeline entry. Sanctions need a decided case with the breach established;
the exceptions are reinstatement (needs a suspension in force) and an interim suspension for rules
that allow one (RuleDefinition.allows_interim_suspension), before a decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from services.enforcement.domain._base import describe_time, require_aware, require_text
from services.enforcement.domain.cases import evolve_case
from services.enforcement.domain.errors import ActionNotAllowed, EnforcementInputError
from services.enforcement.domain.models import ActionKind, ActionTaken, Case, CaseChange, TimelineEntry
from services.enforcement.domain.penalties import PenaltyAssessment, format_money
from services.enforcement.domain.rules import RULES
from services.enforcement.domain.statuses import CaseStatus, DecisionOutcome, Standing, TimelineKind


def issue_warning(case: Case, *, action_id: str, actor: str, reason: str, now: datetime) -> CaseChange:
    """A formal warning on a decided case whose breach is established."""
    _require_established(case, ActionKind.WARNING)
    return _record(
        case,
        ActionKind.WARNING,
        action_id=action_id,
        actor=actor,
        reason=reason,
        now=now,
        effective_at=now,
        summary=f"Warning issued to the developer of {case.model_key}.",
    )


def issue_compliance_order(
    case: Case, *, action_id: str, actor: str, reason: str, now: datetime, comply_by: datetime
) -> CaseChange:
    """An order to comply by `comply_by`, on a decided case whose breach is established."""
    _require_established(case, ActionKind.COMPLIANCE_ORDER)
    require_aware("comply_by", comply_by)
    require_aware("now", now)
    if comply_by <= now:
        raise EnforcementInputError("comply_by", f"{describe_time(comply_by)} is not after now ({describe_time(now)})")
    return _record(
        case,
        ActionKind.COMPLIANCE_ORDER,
        action_id=action_id,
        actor=actor,
        reason=reason,
        now=now,
        effective_at=now,
        comply_by=comply_by,
        summary=f"Compliance order: the developer of {case.model_key} must comply by {describe_time(comply_by)}.",
    )


def suspend_model(
    case: Case,
    *,
    model_actions: Iterable[ActionTaken],
    action_id: str,
    actor: str,
    reason: str,
    now: datetime,
    effective_at: datetime,
    interim: bool = False,
) -> CaseChange:
    """Suspend a registered model: third parties must stop using it from `effective_at`.

    `model_actions` are all earlier actions on the same model (to refuse a second suspension).
    `interim=True` suspends before a decision, only for rules that allow it.
    """
    if case.registry_id is None:
        raise ActionNotAllowed(
            f"case {case.id}: {case.model_key} is not registered, so it has no standing to suspend "
            "(unregistered models may not be used anyway)"
        )
    if interim:
        if not RULES[case.rule].allows_interim_suspension:
            allowing = ", ".join(sorted(rule for rule, spec in RULES.items() if spec.allows_interim_suspension))
            raise ActionNotAllowed(
                f"case {case.id}: rule {case.rule} does not allow an interim suspension (allowed for: {allowing})"
            )
        if case.status is CaseStatus.CLOSED or case.decision is not None:
            raise ActionNotAllowed(
                f"case {case.id} is {case.status}: an interim suspension is only for open, undecided cases"
            )
    else:
        _require_established(case, ActionKind.SUSPENSION)
    _require_not_before_now(effective_at, now)
    in_force = latest_suspension_state(_same_model(case, model_actions))
    if in_force is not None:
        raise ActionNotAllowed(
            f"case {case.id}: {case.model_key} is already suspended by action {in_force.action_id} "
            f"(effective {describe_time(in_force.effective_at)})"
        )
    kind_text = "Interim suspension" if interim else "Suspension"
    return _record(
        case,
        ActionKind.SUSPENSION,
        action_id=action_id,
        actor=actor,
        reason=reason,
        now=now,
        effective_at=effective_at,
        interim=interim,
        implied_standing=Standing.SUSPENDED,
        summary=f"{kind_text} of {case.model_key} from {describe_time(effective_at)}: "
        "third parties must stop using it.",
    )


def impose_penalty(
    case: Case,
    *,
    assessment: PenaltyAssessment,
    amount: Decimal | int,
    action_id: str,
    actor: str,
    reason: str,
    now: datetime,
) -> CaseChange:
    """A penalty of `amount` (in the assessment's currency), at most the assessment's maximum."""
    _require_established(case, ActionKind.PENALTY)
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise EnforcementInputError("amount", f"must be a Decimal or int (never a float), got {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite() or value <= 0:
        raise EnforcementInputError("amount", f"must be a positive amount, got {amount!r}")
    if assessment.maximum_amount <= 0:
        raise ActionNotAllowed(f"case {case.id}: the {assessment.regime} assessment allows no penalty (maximum 0)")
    if value > assessment.maximum_amount:
        raise EnforcementInputError(
            "amount",
            f"{format_money(value, assessment.currency)} exceeds the {assessment.regime} maximum of "
            f"{format_money(assessment.maximum_amount, assessment.currency)}",
        )
    return _record(
        case,
        ActionKind.PENALTY,
        action_id=action_id,
        actor=actor,
        reason=reason,
        now=now,
        effective_at=now,
        amount=value,
        currency=assessment.currency,
        penalty_regime=assessment.regime,
        extra_details=assessment.reasoning,
        summary=f"Penalty of {format_money(value, assessment.currency)} ({assessment.regime}) "
        f"on the developer of {case.model_key}.",
    )


def reinstate_model(
    case: Case,
    *,
    model_actions: Iterable[ActionTaken],
    action_id: str,
    actor: str,
    reason: str,
    now: datetime,
    effective_at: datetime,
) -> CaseChange:
    """Lift the suspension in force on the case's model; refused when no suspension is in force."""
    _require_not_before_now(effective_at, now)
    in_force = latest_suspension_state(_same_model(case, model_actions))
    if in_force is None:
        raise ActionNotAllowed(
            f"case {case.id}: {case.model_key} has no suspension in force; reinstatement needs a prior suspension"
        )
    if effective_at < in_force.effective_at:
        raise EnforcementInputError(
            "effective_at",
            f"{describe_time(effective_at)} is before the suspension takes effect "
            f"({describe_time(in_force.effective_at)})",
        )
    return _record(
        case,
        ActionKind.REINSTATEMENT,
        action_id=action_id,
        actor=actor,
        reason=reason,
        now=now,
        effective_at=effective_at,
        implied_standing=Standing.REGISTERED_GOOD_STANDING,
        summary=f"Reinstatement of {case.model_key} from {describe_time(effective_at)} "
        f"(lifts suspension {in_force.action_id}).",
    )


def latest_suspension_state(actions: Iterable[ActionTaken], *, as_of: datetime | None = None) -> ActionTaken | None:
    """The suspension in force (the latest suspension not followed by a reinstatement), or None.

    With `as_of`, only actions effective by then count; without it, future-dated ones count too.
    """
    relevant = [
        action
        for action in actions
        if action.kind in (ActionKind.SUSPENSION, ActionKind.REINSTATEMENT)
        and (as_of is None or action.effective_at <= as_of)
    ]
    if not relevant:
        return None
    latest = max(relevant, key=lambda action: (action.effective_at, action.taken_at))
    return latest if latest.kind is ActionKind.SUSPENSION else None


def _require_established(case: Case, kind: ActionKind) -> None:
    if case.status is not CaseStatus.DECIDED or case.decision is not DecisionOutcome.BREACH_ESTABLISHED:
        state = f"{case.status}" + (f", {case.decision}" if case.decision else "")
        raise ActionNotAllowed(
            f"case {case.id}: a {kind.replace('_', ' ')} needs a decided case with the breach established; "
            f"the case is {state}"
        )


def _require_not_before_now(effective_at: datetime, now: datetime) -> None:
    require_aware("effective_at", effective_at)
    require_aware("now", now)
    # backdating would turn past lawful uses into unlawful ones
    if effective_at < now:
        raise EnforcementInputError(
            "effective_at", f"{describe_time(effective_at)} is before now ({describe_time(now)})"
        )


def _same_model(case: Case, actions: Iterable[ActionTaken]) -> list[ActionTaken]:
    listed = list(actions)
    for action in listed:
        if action.model_key != case.model_key:
            raise EnforcementInputError(
                "model_actions", f"action {action.action_id} is on {action.model_key}, not {case.model_key}"
            )
    return listed


def _record(
    case: Case,
    kind: ActionKind,
    *,
    action_id: str,
    actor: str,
    reason: str,
    now: datetime,
    effective_at: datetime,
    summary: str,
    extra_details: tuple[str, ...] = (),
    **fields: object,
) -> CaseChange:
    require_aware("now", now)
    action = ActionTaken.model_validate(
        {
            "action_id": require_text("action_id", action_id),
            "kind": kind,
            "case_id": case.id,
            "model_key": case.model_key,
            "registry_id": case.registry_id,
            "rule": case.rule,
            "actor": require_text("actor", actor),
            "reason": require_text("reason", reason),
            "taken_at": now,
            "effective_at": effective_at,
            "summary": summary,
            **fields,
        }
    )
    entry = TimelineEntry(
        case_id=case.id,
        at=now,
        kind=TimelineKind.ACTION_TAKEN,
        actor=action.actor,
        summary=summary,
        details=(
            f"Reason: {action.reason}",
            f"Action {action.action_id}: {kind.description}",
            *extra_details,
        ),
    )
    return CaseChange(case=evolve_case(case, updated_at=now), timeline=(entry,), action=action)
