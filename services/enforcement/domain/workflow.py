"""The case workflow: an explicit map of allowed moves, and the officer operations on a case.

opened -> triaged -> notice_issued -> awaiting_response -> ready_for_decision -> decided -> closed,
with appeal (decided or closed, within the appeal window -> appealed -> decided) and dismissal
(opened/triaged -> closed; notice_issued/awaiting_response -> closed when the developer remedied).
Anything else raises IllegalTransition naming the statuses that are allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from services.enforcement.domain._base import SYSTEM_ACTOR, describe_time, require_aware, require_text
from services.enforcement.domain.cases import evolve_case
from services.enforcement.domain.errors import (
    AppealWindowClosed,
    DeadlineNotReached,
    EnforcementInputError,
    IllegalTransition,
)
from services.enforcement.domain.models import Case, CaseChange, TimelineEntry
from services.enforcement.domain.statuses import (
    CaseStatus,
    DecisionOutcome,
    ResolutionReason,
    TimelineKind,
)

S = CaseStatus
R = ResolutionReason

ALLOWED_TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = MappingProxyType(
    {
        S.OPENED: frozenset({S.TRIAGED, S.CLOSED}),
        S.TRIAGED: frozenset({S.NOTICE_ISSUED, S.CLOSED}),
        S.NOTICE_ISSUED: frozenset({S.AWAITING_RESPONSE, S.READY_FOR_DECISION, S.CLOSED}),
        S.AWAITING_RESPONSE: frozenset({S.READY_FOR_DECISION, S.CLOSED}),
        # no shortcut to a decision: the developer is heard (or its window closes) first
        S.READY_FOR_DECISION: frozenset({S.DECIDED}),
        S.DECIDED: frozenset({S.CLOSED, S.APPEALED}),
        S.APPEALED: frozenset({S.DECIDED}),
        S.CLOSED: frozenset({S.APPEALED}),
    }
)

#: Which resolution reasons may close a case from each status (decided also depends on the decision).
CLOSING_RESOLUTIONS: Mapping[CaseStatus, frozenset[ResolutionReason]] = MappingProxyType(
    {
        S.OPENED: frozenset({R.DUPLICATE, R.OUT_OF_SCOPE, R.NO_BREACH_FOUND}),
        S.TRIAGED: frozenset({R.DUPLICATE, R.OUT_OF_SCOPE, R.NO_BREACH_FOUND}),
        S.NOTICE_ISSUED: frozenset({R.REMEDIED, R.NO_BREACH_FOUND}),
        S.AWAITING_RESPONSE: frozenset({R.REMEDIED, R.NO_BREACH_FOUND}),
        S.DECIDED: frozenset({R.SANCTIONED, R.BREACH_ESTABLISHED_NO_ACTION, R.BREACH_NOT_ESTABLISHED}),
    }
)

_RESOLUTIONS_BY_DECISION = {
    DecisionOutcome.BREACH_ESTABLISHED: frozenset({R.SANCTIONED, R.BREACH_ESTABLISHED_NO_ACTION}),
    DecisionOutcome.BREACH_NOT_ESTABLISHED: frozenset({R.BREACH_NOT_ESTABLISHED}),
}

_AWAITING_DEVELOPER = frozenset({S.NOTICE_ISSUED, S.AWAITING_RESPONSE})


def allowed_next_statuses(status: CaseStatus) -> frozenset[CaseStatus]:
    """The statuses a case in `status` may move to."""
    return ALLOWED_TRANSITIONS[status]


def transition(
    case: Case,
    to_status: CaseStatus | str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    resolution: ResolutionReason | str | None = None,
    decision: DecisionOutcome | str | None = None,
    developer_response_days: int | None = None,
    appeal_window_days: int | None = None,
) -> CaseChange:
    """Move `case` to `to_status`, returning the new case and its timeline entry.

    Extra inputs by target: closed needs `resolution`; decided needs `decision`; notice_issued needs
    `developer_response_days` (profile.deadlines) and decided from ready_for_decision needs
    `appeal_window_days`. Raises IllegalTransition for a move not in ALLOWED_TRANSITIONS,
    AppealWindowClosed for a late appeal, EnforcementInputError for missing or wrong inputs.
    """
    require_aware("now", now)
    actor = require_text("actor", actor)
    reason = require_text("reason", reason)
    target = _status("to_status", to_status)
    if target not in ALLOWED_TRANSITIONS[case.status]:
        raise IllegalTransition(
            case_id=case.id,
            from_status=case.status,
            to_status=target,
            allowed=ALLOWED_TRANSITIONS[case.status],
        )
    if (resolution is not None) != (target is S.CLOSED):
        raise EnforcementInputError("resolution", "is required when closing a case, and only then")
    if (decision is not None) != (target is S.DECIDED):
        raise EnforcementInputError("decision", "is required when deciding a case, and only then")

    if target is S.NOTICE_ISSUED:
        return _issue_notice(case, actor, reason, now, _days("developer_response_days", developer_response_days))
    if target is S.DECIDED:
        assert decision is not None
        return _decide(case, actor, reason, now, _decision(decision), appeal_window_days)
    if target is S.CLOSED:
        assert resolution is not None
        return _close(case, actor, reason, now, _resolution(resolution))
    if target is S.APPEALED:
        return _appeal(case, actor, reason, now)
    if target is S.READY_FOR_DECISION and case.response_due_at is not None and now < case.response_due_at:
        raise IllegalTransition(
            case_id=case.id,
            from_status=case.status,
            to_status=target,
            allowed=ALLOWED_TRANSITIONS[case.status],
            detail=f"the developer may respond until {describe_time(case.response_due_at)}; "
            "use record_developer_response when it does",
        )
    return _move(
        case,
        target,
        actor=actor,
        now=now,
        kind=TimelineKind.STATUS_CHANGED,
        summary=f"Moved from {case.status} to {target}.",
        details=(f"Reason: {reason}",),
    )


def issue_notice(case: Case, *, actor: str, reason: str, now: datetime, developer_response_days: int) -> CaseChange:
    """Issue a notice to the developer; the change's `response_due_at` is the deadline to store durably."""
    return transition(
        case,
        S.NOTICE_ISSUED,
        actor=actor,
        reason=reason,
        now=now,
        developer_response_days=developer_response_days,
    )


def record_developer_response(case: Case, *, actor: str, summary: str, now: datetime) -> CaseChange:
    """Record the developer's response: the case becomes ready for decision.

    A response after the window closed (case already ready for decision) is added to the timeline
    without a status change, marked late, so the officer can still weigh it.
    """
    require_aware("now", now)
    actor = require_text("actor", actor)
    summary = require_text("summary", summary)
    due = case.response_due_at
    timing = "on time" if due is None or now <= due else f"after the deadline of {describe_time(due)}"
    details = (f"Received {describe_time(now)}, {timing}.", f"Response: {summary}")
    if case.status in _AWAITING_DEVELOPER:
        return _move(
            case,
            S.READY_FOR_DECISION,
            actor=actor,
            now=now,
            kind=TimelineKind.RESPONSE_RECEIVED,
            summary=f"The developer responded {timing}.",
            details=details,
        )
    if case.status is S.READY_FOR_DECISION:
        entry = _entry(
            case,
            now,
            TimelineKind.RESPONSE_RECEIVED,
            actor,
            f"The developer responded {timing}, after the case became ready for decision.",
            details,
        )
        return CaseChange(case=evolve_case(case, updated_at=now), timeline=(entry,))
    raise EnforcementInputError(
        "case.status",
        f"case {case.id} is {case.status}; a response is accepted only after a notice and before a decision",
    )


def handle_response_deadline_passed(case: Case, *, now: datetime) -> CaseChange | None:
    """When the stored response deadline fires: move a case still waiting to ready for decision.

    Returns None when there is nothing to do (the developer responded or the case moved on), so a
    deadline delivered twice or late has no second effect. Raises DeadlineNotReached if called early.
    """
    require_aware("now", now)
    if case.status not in _AWAITING_DEVELOPER:
        return None
    due = case.response_due_at
    if due is None:
        raise EnforcementInputError("case.response_due_at", f"case {case.id} is {case.status} but has no deadline")
    if now < due:
        raise DeadlineNotReached(
            f"case {case.id}: response deadline {describe_time(due)} has not passed at {describe_time(now)}"
        )
    return _move(
        case,
        S.READY_FOR_DECISION,
        actor=SYSTEM_ACTOR,
        now=now,
        kind=TimelineKind.RESPONSE_DEADLINE_PASSED,
        summary=f"No response by {describe_time(due)}; the case is ready for decision.",
        details=(f"The response window closed on {describe_time(due)} without a response.",),
    )


def _issue_notice(case: Case, actor: str, reason: str, now: datetime, days: int) -> CaseChange:
    due = now + timedelta(days=days)
    change = _move(
        case,
        S.NOTICE_ISSUED,
        actor=actor,
        now=now,
        kind=TimelineKind.NOTICE_ISSUED,
        summary=f"Notice issued; the developer may respond until {describe_time(due)}.",
        details=(f"Reason: {reason}", f"Response window: {days} days."),
        response_due_at=due,
    )
    return change.model_copy(update={"response_due_at": due})


def _decide(
    case: Case,
    actor: str,
    reason: str,
    now: datetime,
    decision: DecisionOutcome,
    appeal_window_days: int | None,
) -> CaseChange:
    if case.status is S.APPEALED:
        verdict = "upheld" if decision is case.decision else "changed"
        return _move(
            case,
            S.DECIDED,
            actor=actor,
            now=now,
            kind=TimelineKind.APPEAL_DECIDED,
            summary=f"Appeal reviewed: decision {verdict} ({decision}).",
            details=(f"Reason: {reason}", "No further appeal lies to the registry."),
            decision=decision,
            decided_at=now,
            appeal_deadline_at=None,
        )
    window = _days("appeal_window_days", appeal_window_days)
    appeal_by = now + timedelta(days=window)
    return _move(
        case,
        S.DECIDED,
        actor=actor,
        now=now,
        kind=TimelineKind.DECISION_RECORDED,
        summary=f"Decided: {decision}.",
        details=(f"Reason: {reason}", f"The developer may appeal until {describe_time(appeal_by)}."),
        decision=decision,
        decided_at=now,
        appeal_deadline_at=appeal_by,
    )


def _close(case: Case, actor: str, reason: str, now: datetime, resolution: ResolutionReason) -> CaseChange:
    allowed = CLOSING_RESOLUTIONS[case.status]
    if case.status is S.DECIDED and case.decision is not None:
        allowed = allowed & _RESOLUTIONS_BY_DECISION[case.decision]
    if resolution not in allowed:
        raise EnforcementInputError(
            "resolution",
            f"{resolution} cannot close a case that is {case.status}"
            f"{f' ({case.decision})' if case.status is S.DECIDED else ''}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )
    return _move(
        case,
        S.CLOSED,
        actor=actor,
        now=now,
        kind=TimelineKind.CASE_CLOSED,
        summary=f"Closed: {resolution}.",
        details=(f"Reason: {reason}", resolution.description),
        resolution=resolution,
        closed_at=now,
    )


def _appeal(case: Case, actor: str, reason: str, now: datetime) -> CaseChange:
    deadline = case.appeal_deadline_at
    if deadline is None or now > deadline:
        if case.decision is None:
            why = "there is no decision to appeal"
        elif deadline is None:
            why = "the decision was already reviewed on appeal"
        else:
            why = f"the appeal window closed on {describe_time(deadline)}"
        raise AppealWindowClosed(
            case_id=case.id,
            from_status=case.status,
            to_status=S.APPEALED,
            allowed=ALLOWED_TRANSITIONS[case.status],
            detail=why,
        )
    return _move(
        case,
        S.APPEALED,
        actor=actor,
        now=now,
        kind=TimelineKind.APPEAL_FILED,
        summary=f"Appeal filed against the decision ({case.decision}).",
        details=(f"Grounds: {reason}",),
        resolution=None,
        closed_at=None,
    )


def _move(
    case: Case,
    target: CaseStatus,
    *,
    actor: str,
    now: datetime,
    kind: TimelineKind,
    summary: str,
    details: tuple[str, ...],
    **fields: object,
) -> CaseChange:
    entry = TimelineEntry(
        case_id=case.id,
        at=now,
        kind=kind,
        actor=actor,
        summary=summary,
        details=details,
        from_status=case.status,
        to_status=target,
    )
    moved = evolve_case(case, status=target, updated_at=now, **fields)
    return CaseChange(case=moved, timeline=(entry,))


def _entry(
    case: Case, now: datetime, kind: TimelineKind, actor: str, summary: str, details: tuple[str, ...] = ()
) -> TimelineEntry:
    return TimelineEntry(case_id=case.id, at=now, kind=kind, actor=actor, summary=summary, details=details)


def _status(field: str, value: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        raise EnforcementInputError(field, f"unknown status {value!r}; known: {', '.join(CaseStatus)}") from None


def _decision(value: DecisionOutcome | str) -> DecisionOutcome:
    try:
        return DecisionOutcome(value)
    except ValueError:
        raise EnforcementInputError(
            "decision", f"unknown decision {value!r}; known: {', '.join(DecisionOutcome)}"
        ) from None


def _resolution(value: ResolutionReason | str) -> ResolutionReason:
    try:
        return ResolutionReason(value)
    except ValueError:
        known = ", ".join(ResolutionReason)
        raise EnforcementInputError("resolution", f"unknown resolution {value!r}; known: {known}") from None


def _days(field: str, value: int | None) -> int:
    if value is None:
        raise EnforcementInputError(field, "is required for this transition (take it from the rule profile)")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EnforcementInputError(field, f"must be a whole number of days >= 1, got {value!r}")
    return value
