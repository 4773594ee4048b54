"""Enforcement's application layer: each change to a case is stored with its timeline and the events it
causes (CaseOpened, CaseStatusChanged, ActionTaken, StandingChanged) in one transaction, through the outbox.

Handlers (breaches from other services), the officers' API and desk, and the deadline job all come here, so a
change is published the same way whoever makes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import CaseOpened, EventData, new_envelope
from registry_contracts.events.enforcement import (
    ActionKind as ContractActionKind,
)
from registry_contracts.events.enforcement import (
    ActionTaken as ActionTakenEvent,
)
from registry_contracts.events.enforcement import (
    CaseStatusChanged,
    StandingChanged,
)
from registry_contracts.events.enforcement import (
    Standing as ContractStanding,
)
from registry_contracts.topics import ENFORCEMENT_CASES, ENFORCEMENT_STANDING
from services.plumbing import audit
from services.plumbing.outbox import enqueue
from services.plumbing.rule_profile import RuleProfile

from . import store
from .domain import (
    SYSTEM_ACTOR,
    ActionTaken,
    Case,
    CaseChange,
    FalseStatementFound,
    RuleBreach,
    RuleId,
    Standing,
    Trigger,
    apply_breach,
    case_key,
    compute_standing,
    evaluate_trigger,
)
from .domain.models import TimelineEntry


@dataclass(frozen=True)
class Cause:
    """Who or what caused a change: correlation and causation ids for the events it publishes."""

    correlation_id: str
    causation_id: str | None = None

    @staticmethod
    def request() -> Cause:
        """An officer's request starts its own correlation."""
        return Cause(correlation_id=str(uuid.uuid4()))


@dataclass(frozen=True)
class CaseUpdate:
    """A stored change: the case as saved, its new row version, and what the domain returned."""

    case: Case
    row_version: int
    change: CaseChange


@dataclass(frozen=True)
class Judgement:
    """What some facts amount to: a trigger for the rules (or why there is none), and the evidence to keep."""

    registry_id: str | None
    trigger: Trigger | None
    version: int | None = None
    no_trigger_reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    case_model_key: str | None = None  # overrides the breach's model key (a reserved registry id)


@dataclass(frozen=True)
class Source:
    """Where the facts came from: a consumed event, or an officer's finding (its content-derived id).

    `id` keys the one `decisions` row and the case's evidence (a redelivery or retry finds it there);
    `subject` stands in for a judgement without a registry id; `actor` is who established a breach.
    """

    id: uuid.UUID
    type: str  # the event type (ComputeVerified, ...) or FalseStatementFound
    subject: str
    correlation_id: str
    evidence: dict[str, Any]
    actor: str = SYSTEM_ACTOR

    @property
    def cause(self) -> Cause:
        return Cause(correlation_id=self.correlation_id, causation_id=str(self.id))


@dataclass(frozen=True)
class Decided:
    """What `decide` recorded: case_opened, case_updated or no_action, and the case change if any."""

    decision: str
    change: CaseChange | None = None


class CaseNotFound(LookupError):
    """No case has this id."""


# An officer operation: the stored case, every action on the same model, and `now` -> the domain's change.
Operation = Callable[[Case, Sequence[ActionTaken], datetime], CaseChange]


def public_id(case: Case) -> str:
    """The registry id, or for an unregistered model its `unregistered:` key (also the Kafka key)."""
    return case.registry_id or case.model_key


async def publish(conn: asyncpg.Connection, topic: str, event: EventData, *, subject: str, cause: Cause) -> None:
    envelope = new_envelope(
        event, subject=subject, correlation_id=cause.correlation_id, causation_id=cause.causation_id
    )
    await enqueue(conn, topic=topic, envelope=envelope)


async def decide(conn: asyncpg.Connection, source: Source, judgement: Judgement, profile: RuleProfile) -> Decided:
    """Judge the trigger, record the decision, and open or update the case when it is a breach.

    Every source leaves one row in `decisions` (its id is the key), whoever brought it: a handler for a
    consumed event or the API for an officer's finding."""
    breach = evaluate_trigger(judgement.trigger, profile) if judgement.trigger is not None else None

    async def record(decision: str, rule: str | None = None, case_id: str | None = None, reason: str | None = None):
        await store.record_decision(
            conn,
            source_event_id=source.id,
            registry_id=judgement.registry_id or source.subject,
            version=judgement.version,
            rule=rule,
            decision=decision,
            case_id=case_id,
            correlation_id=source.correlation_id,
            reason=reason,
        )

    if breach is None:
        await record("no_action", reason=judgement.no_trigger_reason or "the facts show no breach of any rule")
        return Decided("no_action")
    if judgement.case_model_key is not None:
        breach = breach.model_copy(update={"model_key": judgement.case_model_key})
    change = await record_breach(
        conn,
        breach,
        now=datetime.now(UTC),
        cause=source.cause,
        evidence={**source.evidence, **judgement.evidence},
        event_type=source.type,
        actor=source.actor,
    )
    decision = "case_opened" if change.opened else "case_updated"
    await record(decision, str(breach.rule), change.case.id, reason=breach.summary)
    return Decided(decision, change)


class UnknownModel(LookupError):
    """Enforcement has never heard of this registry id."""


@dataclass(frozen=True)
class FindingRecorded:
    """An officer's finding as recorded: its id, the decision (case_opened or case_updated) and the case;
    `replayed` when the same finding had already been recorded (a retry), which changed nothing."""

    finding_id: str
    decision: str
    case_id: str
    replayed: bool


async def record_false_statement(
    pool: asyncpg.Pool, finding: FalseStatementFound, *, profile: RuleProfile, cause: Cause
) -> FindingRecorded:
    """An officer's false-statement finding, judged like any trigger: the (model, false_statement) case is opened
    or the breach added to the open one, with the finding as evidence, in one transaction.

    The finding's id comes from its content, so the same finding sent again (a retried request) is found in
    `decisions` and answered without a second effect. Raises UnknownModel for a registry id enforcement never saw.
    """
    finding_id = uuid.UUID(finding.finding_id)
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_case_key(conn, finding.registry_id, str(RuleId.FALSE_STATEMENT))
        previous = await store.decision_for(conn, finding_id)
        if previous is not None:
            return FindingRecorded(str(finding_id), previous["decision"], previous["case_id"], replayed=True)
        if not await store.model_known(conn, finding.registry_id):
            raise UnknownModel(finding.registry_id)
        source = Source(
            id=finding_id,
            type="FalseStatementFound",
            subject=finding.registry_id,
            correlation_id=cause.correlation_id,
            evidence={
                "event_type": "FalseStatementFound",
                **finding.model_dump(mode="json"),
                "finding_id": str(finding_id),
            },
            actor=finding.found_by,
        )
        decided = await decide(conn, source, Judgement(finding.registry_id, finding, version=finding.version), profile)
        assert decided.change is not None, "a false statement is always a breach"
        recorded = FindingRecorded(str(finding_id), decided.decision, decided.change.case.id, replayed=False)
        await audit.record(
            conn,
            actor=finding.found_by,
            action="finding.false_statement",
            subject=finding.registry_id,
            detail={
                "finding_id": recorded.finding_id,
                "version": finding.version,
                "statement_field": finding.statement_field,
                "finding": finding.finding,
                "case_id": recorded.case_id,
                "decision": recorded.decision,
            },
        )
        return recorded


async def record_breach(
    conn: asyncpg.Connection,
    breach: RuleBreach,
    *,
    now: datetime,
    cause: Cause,
    evidence: dict[str, Any],
    event_type: str,
    actor: str = SYSTEM_ACTOR,
) -> CaseChange:
    """Open the (model, rule) case for `breach` or add it to the open one, with the event's evidence.

    `actor` is who established the breach ("system" for a rule applied to an event, or an officer)."""
    model_key, rule = case_key(breach)
    existing = await store.open_case_for(conn, model_key, rule)
    new_case_id = existing.id if existing else await store.next_case_id(conn, now.year)
    change = apply_breach(existing, breach, now, new_case_id=new_case_id, actor=actor)
    await store.save_change(conn, change)
    assert cause.causation_id is not None
    await store.add_evidence(
        conn,
        case_id=change.case.id,
        source_event_id=uuid.UUID(cause.causation_id),
        event_type=event_type,
        evidence=evidence,
    )
    if change.opened:
        opened = CaseOpened(
            case_id=change.case.id,
            registry_id=public_id(change.case),
            rule=rule,
            summary=breach.summary,
            opened_at=change.case.opened_at,
            evidence_event_id=cause.causation_id,
        )
        await publish(conn, ENFORCEMENT_CASES.name, opened, subject=public_id(change.case), cause=cause)
    await audit.record(
        conn,
        actor=actor,
        action="decision.case_opened" if change.opened else "decision.evidence_added",
        subject=change.case.id,
        detail={"rule": rule, "registry_id": change.case.registry_id, "event_type": event_type},
    )
    await refresh_standing(conn, change.case.model_key, change.case.registry_id, now=now, cause=cause)
    return change


async def change_case(
    pool: asyncpg.Pool, case_id: str, *, expected_row_version: int, operate: Operation, cause: Cause
) -> CaseUpdate:
    """Apply an officer's operation to the case it read at `expected_row_version`.

    Raises CaseNotFound, StaleCaseError (someone else changed it first) or the domain's errors; nothing is
    stored unless everything is.
    """
    async with pool.acquire() as conn, conn.transaction():
        loaded = await store.load_case(conn, case_id)
        if loaded is None:
            raise CaseNotFound(case_id)
        case, current = loaded
        if current != expected_row_version:
            raise store.StaleCaseError(case_id, current)
        now = datetime.now(UTC)
        change = operate(case, await store.actions_for_model(conn, case.model_key), now)
        row_version = await store.save_change(conn, change, expected_row_version=expected_row_version)
        await publish_change(conn, change, now=now, cause=cause)
        await audit_change(conn, change, row_version=row_version)
        return CaseUpdate(case=change.case, row_version=row_version, change=change)


async def audit_change(conn: asyncpg.Connection, change: CaseChange, *, row_version: int) -> None:
    """Each decision a stored change records (an officer's, or the system's at a deadline) in the audit log."""
    for entry in change.timeline:
        await audit.record(
            conn,
            actor=entry.actor,
            action=f"decision.{entry.kind}",
            subject=change.case.id,
            detail={"to_status": entry.to_status, "row_version": row_version, "summary": entry.summary},
        )


async def publish_change(conn: asyncpg.Connection, change: CaseChange, *, now: datetime, cause: Cause) -> None:
    """The events a stored change causes: status changes, the action, and a standing change if any."""
    case = change.case
    for entry in change.timeline:
        if entry.from_status is not None and entry.to_status is not None and entry.from_status != entry.to_status:
            await publish(
                conn, ENFORCEMENT_CASES.name, status_changed(case, entry), subject=public_id(case), cause=cause
            )
    action = change.action
    if action is not None:
        await store.save_action(conn, action, standing_applied=action.effective_at <= now)
        await publish(conn, ENFORCEMENT_CASES.name, action_event(action), subject=public_id(case), cause=cause)
    await refresh_standing(conn, case.model_key, case.registry_id, now=now, cause=cause)


def status_changed(case: Case, entry: TimelineEntry) -> CaseStatusChanged:
    assert entry.from_status is not None and entry.to_status is not None
    reason = " ".join((entry.summary, *entry.details))
    return CaseStatusChanged(
        case_id=case.id,
        registry_id=public_id(case),
        rule=str(case.rule),
        from_status=str(entry.from_status),
        to_status=str(entry.to_status),
        actor=entry.actor,
        reason=reason,
        changed_at=entry.at,
    )


def action_event(action: ActionTaken) -> ActionTakenEvent:
    return ActionTakenEvent(
        action_id=action.action_id,
        case_id=action.case_id,
        registry_id=action.registry_id or action.model_key,
        kind=ContractActionKind(str(action.kind)),
        summary=action.summary,
        amount=str(action.amount) if action.amount is not None else None,
        currency=action.currency,
        effective_at=action.effective_at,
        actor=action.actor,
    )


async def refresh_standing(
    conn: asyncpg.Connection, model_key: str, registry_id: str | None, *, now: datetime, cause: Cause
) -> Standing | None:
    """Recompute a registered model's standing and publish StandingChanged when it differs from the last one.

    Unregistered models have no public standing to change (they may not be used at all); returns the standing
    published, or None when nothing changed.
    """
    if registry_id is None:
        return None
    registered, withdrawn, _, _ = await store.model_facts(conn, registry_id)
    assessment = compute_standing(
        model_key=model_key,
        registered=registered,
        withdrawn=withdrawn,
        cases=await store.cases_for_model_key(conn, model_key),
        actions=await store.actions_for_model(conn, model_key),
        as_of=now,
    )
    previous = await store.last_standing(conn, model_key) or Standing.REGISTERED_GOOD_STANDING
    if assessment.standing == previous:
        return None
    case_ids = list(assessment.cases_under_review)
    if assessment.suspension_action_id is not None:
        case_ids += [
            a.case_id
            for a in await store.actions_for_model(conn, model_key)
            if a.action_id == assessment.suspension_action_id
        ]
    await store.save_standing(
        conn, model_key, standing=str(assessment.standing), reasons=list(assessment.reasons), case_ids=case_ids, at=now
    )
    event = StandingChanged(
        registry_id=registry_id,
        standing=ContractStanding(str(assessment.standing)),
        reasons=list(assessment.reasons),
        case_ids=case_ids,
        effective_at=now,
    )
    await publish(conn, ENFORCEMENT_STANDING.name, event, subject=registry_id, cause=cause)
    return assessment.standing
