"""One case per (model, rule): open a case or add a breach to the open one; assign officers, add notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.enforcement.domain._base import SYSTEM_ACTOR, require_aware, require_text
from services.enforcement.domain.errors import EnforcementInputError
from services.enforcement.domain.models import Case, CaseChange, TimelineEntry
from services.enforcement.domain.rules import RULES, RuleBreach
from services.enforcement.domain.statuses import CaseStatus, TimelineKind


def case_key(breach: RuleBreach) -> tuple[str, str]:
    """The (model key, rule id) pair that identifies the one open case a breach belongs to."""
    return (breach.model_key, str(breach.rule))


def key_of_case(case: Case) -> tuple[str, str]:
    """The (model key, rule id) pair of an existing case; equal to `case_key` of its breaches."""
    return (case.model_key, str(case.rule))


def apply_breach(
    existing: Case | None, breach: RuleBreach, now: datetime, *, new_case_id: str, actor: str = SYSTEM_ACTOR
) -> CaseChange:
    """Open a case for `breach`, or add it to the open case for the same (model, rule).

    `existing` is the case the store holds for `case_key(breach)`, or None. A closed case is not
    reopened: a new breach after closure opens a new case with `new_case_id` (derive it from the
    triggering event id so a retried transaction produces the same id). `new_case_id` is unused when
    the breach updates an open case. `actor` is who established the breach: "system" when a rule found
    it in another service's event, an officer's id when the officer did (a false statement).
    """
    require_aware("now", now)
    actor = require_text("actor", actor)
    if existing is None or existing.status is CaseStatus.CLOSED:
        return _open_case(breach, now, require_text("new_case_id", new_case_id), actor)
    if key_of_case(existing) != case_key(breach):
        raise EnforcementInputError(
            "existing",
            f"case {existing.id} is for {key_of_case(existing)} but the breach is for {case_key(breach)}",
        )
    count = existing.breach_count + 1
    case = evolve_case(
        existing,
        updated_at=now,
        breach_count=count,
        last_breach_at=max(existing.last_breach_at, breach.occurred_at),
    )
    entry = TimelineEntry(
        case_id=existing.id,
        at=now,
        kind=TimelineKind.BREACH_RECORDED,
        actor=actor,
        summary=f"Further breach recorded (breach {count} on this case): {breach.summary}",
        details=_breach_details(breach),
    )
    return CaseChange(case=case, timeline=(entry,))


def assign_officer(case: Case, *, officer_id: str, actor: str, now: datetime) -> CaseChange:
    """Assign (or reassign) the case to an officer."""
    require_aware("now", now)
    officer_id = require_text("officer_id", officer_id)
    actor = require_text("actor", actor)
    if case.status is CaseStatus.CLOSED:
        raise EnforcementInputError("case.status", f"case {case.id} is closed; it cannot be assigned")
    if case.assigned_officer == officer_id:
        raise EnforcementInputError("officer_id", f"case {case.id} is already assigned to {officer_id}")
    previous = f" (previously {case.assigned_officer})" if case.assigned_officer else ""
    entry = TimelineEntry(
        case_id=case.id,
        at=now,
        kind=TimelineKind.OFFICER_ASSIGNED,
        actor=actor,
        summary=f"Assigned to {officer_id}{previous}.",
    )
    return CaseChange(case=evolve_case(case, assigned_officer=officer_id, updated_at=now), timeline=(entry,))


def add_note(case: Case, *, actor: str, text: str, now: datetime) -> CaseChange:
    """Add an officer's note to the case timeline; allowed in every status."""
    require_aware("now", now)
    entry = TimelineEntry(
        case_id=case.id,
        at=now,
        kind=TimelineKind.NOTE_ADDED,
        actor=require_text("actor", actor),
        summary=require_text("text", text),
    )
    return CaseChange(case=evolve_case(case, updated_at=now), timeline=(entry,))


def evolve_case(case: Case, **changes: Any) -> Case:
    """A copy of `case` with `changes`, re-validated so an inconsistent case never leaves the domain."""
    return Case.model_validate(case.model_dump() | changes)


def _open_case(breach: RuleBreach, now: datetime, case_id: str, actor: str) -> CaseChange:
    case = Case(
        id=case_id,
        model_key=breach.model_key,
        registry_id=breach.registry_id,
        rule=breach.rule,
        status=CaseStatus.OPENED,
        opened_at=now,
        updated_at=now,
        profile_id=breach.profile_id,
        breach_count=1,
        first_breach_at=breach.occurred_at,
        last_breach_at=breach.occurred_at,
        summary=breach.summary,
    )
    entry = TimelineEntry(
        case_id=case_id,
        at=now,
        kind=TimelineKind.CASE_OPENED,
        actor=actor,
        summary=f"Case opened under rule {breach.rule}: {breach.summary}",
        details=_breach_details(breach),
        to_status=CaseStatus.OPENED,
    )
    return CaseChange(case=case, timeline=(entry,), opened=True)


def _breach_details(breach: RuleBreach) -> tuple[str, ...]:
    lines = [*breach.reasons, f"Rule {breach.rule}: {RULES[breach.rule].description}"]
    if breach.reference:
        lines.append(f"Reference: {breach.reference}")
    lines.append(f"Judged under rule profile {breach.profile_id}.")
    return tuple(lines)
