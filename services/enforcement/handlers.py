"""Enforcement's event handlers: findings and filings from other services become the domain's triggers,
are judged against the rules, and breaches open a case once per (model, rule) or update the open one.

Every handled event leaves one row in `decisions` (case_opened, case_updated or no_action with a reason),
so an officer can see what enforcement made of it; the inbox makes a redelivered event a no-op.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import ComputeVerified, Envelope, EventData, RegistrationSubmitted
from registry_contracts.events.evaluations import (
    EvaluationAccessRefused,
    EvaluationCompleted,
    EvaluationDeadlineMissed,
)
from registry_contracts.events.intake import (
    FilingKind as IntakeFilingKind,
)
from registry_contracts.events.intake import (
    IncidentReported as IncidentReportedEvent,
)
from registry_contracts.events.intake import (
    LateFilingRecorded,
    ModelStatus,
    ModelStatusChanged,
    TrainingNoticeFiled,
    UsageReported,
)
from services.plumbing.inbox import Subscription
from services.plumbing.rule_profile import RuleProfile
from services.plumbing.service import ServiceState

from . import casework, store
from .casework import Cause, Judgement, Source, refresh_standing
from .domain import (
    ComputeVerificationFinding,
    DomainResult,
    EvaluationOutcome,
    EvaluationOverdue,
    EvaluationRefused,
    FilingKind,
    IncidentReported,
    LateFiling,
    UnregisteredUse,
    UseSource,
)


def judge_compute_verified(event: ComputeVerified, profile: RuleProfile) -> Judgement:
    estimates = [e.flop for e in event.estimates if e.flop is not None]
    finding = ComputeVerificationFinding(
        registry_id=event.registry_id,
        version=event.version,
        status=event.status.value,
        declared_flop=event.declared_training_flop,
        max_estimate_flop=max(estimates) if estimates else None,
        # No estimate means no tolerance was applied; the profile's stands in for the record.
        tolerance_factor=event.tolerance_factor or profile.verification.tolerance_factor,
        summary=event.explanation,
        verified_at=event.verified_at,
    )
    return Judgement(event.registry_id, finding, version=event.version)


def judge_late_filing(event: LateFilingRecorded, profile: RuleProfile) -> Judgement:
    kinds = {
        IntakeFilingKind.TRAINING_NOTICE: FilingKind.TRAINING_NOTICE,
        IntakeFilingKind.REGISTRATION: FilingKind.REGISTRATION,
    }
    kind = kinds.get(event.filing_kind)
    if kind is None:
        # An incident report is judged from IncidentReported itself (its clock depends on imminent risk);
        # a late status change breaks no enforcement rule.
        reason = f"late {event.filing_kind.value} is judged elsewhere or breaks no enforcement rule"
        return Judgement(event.registry_id, None, no_trigger_reason=reason)
    trigger = LateFiling(
        registry_id=event.registry_id,
        filing_kind=kind,
        anchor_at=event.anchor_at,
        filed_at=event.filed_at,
        filing_id=event.filing_id,
    )
    return Judgement(event.registry_id, trigger)


def judge_incident(event: IncidentReportedEvent, profile: RuleProfile) -> Judgement:
    trigger = IncidentReported(
        registry_id=event.registry_id,
        incident_id=event.incident_id,
        discovered_at=event.discovered_at,
        reported_at=event.reported_at,
        imminent_risk=event.imminent_risk,
    )
    return Judgement(event.registry_id, trigger)


def judge_usage(event: UsageReported, profile: RuleProfile) -> Judgement:
    if event.registered:
        return Judgement(event.registry_id, None, no_trigger_reason="the model in use is registered")
    trigger = UnregisteredUse(
        model_name=event.model_name,
        developer=event.developer_name,
        seen_at=event.seen_at,
        source=UseSource.LOOKUP if event.source == "unknown_lookup" else UseSource.USAGE_REPORT,
        reporter=event.reporter,
        report_id=event.report_id,
    )
    return Judgement(None, trigger)


def judge_evaluation(event: EvaluationCompleted, profile: RuleProfile) -> Judgement:
    # Judged per domain: the event's `overall` also covers domains judged (and cased) by earlier events.
    verdict = event.domain.verdict.value
    outcome = EvaluationOutcome(
        registry_id=event.registry_id,
        version=event.version,
        request_id=event.request_id,
        lab_id=event.lab_id,
        domain_results=(DomainResult(domain=event.domain.domain, verdict=verdict),),
        overall=verdict,
        completed_at=event.completed_at,
    )
    return Judgement(event.registry_id, outcome, version=event.version)


def judge_deadline_missed(event: EvaluationDeadlineMissed, profile: RuleProfile) -> Judgement:
    overdue = EvaluationOverdue(
        registry_id=event.registry_id,
        request_id=event.request_id,
        lab_id=event.lab_id,
        domains=(event.domain,),
        due_at=event.deadline,
        observed_at=event.detected_at,
    )
    return Judgement(event.registry_id, overdue, version=event.version)


def judge_access_refused(event: EvaluationAccessRefused, profile: RuleProfile) -> Judgement:
    refused = EvaluationRefused(
        registry_id=event.registry_id,
        request_id=event.request_id,
        lab_id=event.lab_id,
        refused_at=event.reported_at,
        explanation=event.detail.strip() or "the lab gave no detail",
    )
    return Judgement(event.registry_id, refused, version=event.version)


async def decide(conn: asyncpg.Connection, envelope: Envelope[Any], judgement: Judgement, profile: RuleProfile) -> None:
    """Judge the event's trigger, record the decision, and open or update the case when it is a breach."""
    source = Source(
        id=envelope.id,
        type=envelope.data.event_type,
        subject=envelope.subject,
        correlation_id=envelope.correlationid,
        evidence={"event_type": envelope.data.event_type, **envelope.data.model_dump(mode="json")},
    )
    await casework.decide(conn, source, judgement, profile)


Handler = Callable[[asyncpg.Connection, Envelope[Any]], Awaitable[None]]


def judging(judge: Callable[[Any, RuleProfile], Judgement], profile: RuleProfile) -> Handler:
    """A handler that maps its event with `judge` and decides on it."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        await decide(conn, envelope, judge(envelope.data, profile), profile)

    handle.__name__ = f"on_{judge.__name__.removeprefix('judge_')}"
    return handle


def make_verified_handler(profile: RuleProfile) -> Handler:
    judge = judging(judge_compute_verified, profile)

    async def on_compute_verified(conn: asyncpg.Connection, envelope: Envelope[ComputeVerified]) -> None:
        verified = envelope.data
        estimates = [e.flop for e in verified.estimates if e.flop is not None]
        await store.record_compute_observation(
            conn,
            registry_id=verified.registry_id,
            version=verified.version,
            run=verified.run,
            status=verified.status.value,
            declared_flop=verified.declared_training_flop,
            max_estimate_flop=max(estimates) if estimates else None,
            declared_tier=verified.declared_tier.value,
            verified_tier=verified.verified_tier.value,
            verified_at=verified.verified_at,
        )
        await store.remember_model(
            conn,
            verified.registry_id,
            model_name=verified.model_name,
            developer_name=verified.developer.legal_name,
            organisation_id=verified.developer.organisation_id,
            registered=True,
        )
        await judge(conn, envelope)

    return on_compute_verified


async def on_registration(conn: asyncpg.Connection, envelope: Envelope[RegistrationSubmitted]) -> None:
    filing = envelope.data
    await store.remember_model(
        conn,
        filing.registry_id,
        model_name=filing.model_name,
        developer_name=filing.developer.legal_name,
        organisation_id=filing.developer.organisation_id,
        registered=True,
    )


async def on_training_notice(conn: asyncpg.Connection, envelope: Envelope[TrainingNoticeFiled]) -> None:
    notice = envelope.data  # reserves a registry id; the model is not registered until it is filed
    await store.remember_model(
        conn,
        notice.registry_id,
        model_name=notice.model_family,
        developer_name=notice.developer.legal_name,
        organisation_id=notice.developer.organisation_id,
        registered=False,
    )


def make_status_handler(profile: RuleProfile) -> Handler:
    async def on_model_status_changed(conn: asyncpg.Connection, envelope: Envelope[ModelStatusChanged]) -> None:
        change = envelope.data
        cause = Cause(correlation_id=envelope.correlationid, causation_id=str(envelope.id))
        if change.status is not ModelStatus.DEPLOYED:
            await store.set_withdrawn(conn, change.registry_id, True)
            await refresh_standing(conn, change.registry_id, change.registry_id, now=datetime.now(UTC), cause=cause)
            await decide(conn, envelope, Judgement(change.registry_id, None, no_trigger_reason="withdrawn"), profile)
            return
        reserved_only = await store.is_reserved_only(conn, change.registry_id)
        await store.set_withdrawn(conn, change.registry_id, False)
        if not reserved_only:
            await refresh_standing(conn, change.registry_id, change.registry_id, now=datetime.now(UTC), cause=cause)
            reason = "deployment of a registered model"
            await decide(conn, envelope, Judgement(change.registry_id, None, no_trigger_reason=reason), profile)
            return
        _, _, name, developer = await store.model_facts(conn, change.registry_id)
        deployed_at = datetime.combine(change.effective_date, datetime.min.time(), tzinfo=UTC)
        trigger = UnregisteredUse(
            model_name=name or change.registry_id,
            developer=developer,
            seen_at=deployed_at,
            source=UseSource.DEVELOPER_DEPLOYMENT,
            report_id=change.registry_id,
        )
        # Keyed by the reserved registry id, so later filings about it find the same case.
        judgement = Judgement(change.registry_id, trigger, case_model_key=change.registry_id)
        await decide(conn, envelope, judgement, profile)

    return on_model_status_changed


def subscriptions(state: ServiceState) -> Mapping[str, Subscription]:
    profile = state.profile
    handlers: dict[type[EventData], Handler] = {
        ComputeVerified: make_verified_handler(profile),
        RegistrationSubmitted: on_registration,
        TrainingNoticeFiled: on_training_notice,
        ModelStatusChanged: make_status_handler(profile),
        LateFilingRecorded: judging(judge_late_filing, profile),
        IncidentReportedEvent: judging(judge_incident, profile),
        UsageReported: judging(judge_usage, profile),
        EvaluationCompleted: judging(judge_evaluation, profile),
        EvaluationDeadlineMissed: judging(judge_deadline_missed, profile),
        EvaluationAccessRefused: judging(judge_access_refused, profile),
    }
    return {event.cloudevents_type(): Subscription(event, handle) for event, handle in handlers.items()}
