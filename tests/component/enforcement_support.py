"""Builders of the events enforcement consumes, and helpers to deliver them to an in-process consumer.

Shared by enforcement's component, integration and browser tests.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from registry_contracts import (
    ComputeEstimate,
    ComputeInputs,
    ComputeVerified,
    Developer,
    Envelope,
    EventData,
    RegistrationSubmitted,
    Tier,
    VerificationStatus,
    new_envelope,
)
from registry_contracts.events.evaluations import (
    DomainVerdict,
    EvaluationAccessRefused,
    EvaluationCompleted,
    EvaluationDeadlineMissed,
    EvaluationVerdict,
)
from registry_contracts.events.intake import (
    FilingKind,
    IncidentReported,
    LateFilingRecorded,
    ModelStatus,
    ModelStatusChanged,
    TrainingNoticeFiled,
    UsageReported,
)
from registry_contracts.topics import EVALUATIONS_OUTCOMES, INTAKE_FILINGS, VERIFICATION_OUTCOMES
from services.plumbing.inbox import Disposition, IncomingMessage
from services.plumbing.service import ServiceState

NOW = datetime.now(UTC).replace(microsecond=0)
PROFILE = "baseline-2026-01"
TOPIC_OF = {
    "intake": INTAKE_FILINGS.name,
    "verification": VERIFICATION_OUTCOMES.name,
    "evaluations": EVALUATIONS_OUTCOMES.name,
}


def registry_id() -> str:
    return f"TEST-{uuid.uuid4().hex[:12].upper()}"


def developer() -> Developer:
    return Developer(organisation_id=f"org-{uuid.uuid4().hex[:8]}", legal_name="Casework Labs Ltd", country="GB")


def message(envelope: Envelope[Any]) -> IncomingMessage:
    """The Kafka message carrying `envelope` on its producer's topic."""
    return IncomingMessage(
        topic=TOPIC_OF[envelope.data.producer],
        partition=0,
        offset=1,
        key=envelope.subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers={},
    )


def wrap(event: EventData, subject: str | None = None) -> Envelope[Any]:
    key = subject or getattr(event, "registry_id", None)
    assert key, "an event without a registry id needs its subject"
    return new_envelope(event, subject=key)


async def deliver(state: ServiceState, envelope: Envelope[Any]) -> Disposition:
    assert state.consumer is not None
    return await state.consumer.process(message(envelope))


def compute_verified(
    rid: str, *, status: VerificationStatus = VerificationStatus.DISCREPANCY, declared: float = 1e24, estimate=2e25
) -> ComputeVerified:
    return ComputeVerified(
        registry_id=rid,
        version=1,
        developer=developer(),
        model_name=f"model-{rid[-4:].lower()}",
        status=status,
        declared_training_flop=declared,
        estimates=[
            ComputeEstimate(
                method="architecture",
                flop=estimate,
                low_flop=estimate / 2,
                high_flop=estimate * 2,
                reasons=["6 x 70e9 parameters x 48e12 tokens"],
            )
        ],
        tolerance_factor=2.0,
        threshold_flop=1e25,
        declared_tier=Tier.NEAR_THRESHOLD,
        verified_tier=Tier.REPORTABLE,
        explanation=f"Declared {declared:.0e} FLOP; the architecture estimate exceeds it by "
        f"{estimate / declared:.0f}x.",
        verified_at=NOW,
        rule_profile_id=PROFILE,
    )


def registration(rid: str) -> RegistrationSubmitted:
    return RegistrationSubmitted(
        registry_id=rid,
        version=1,
        developer=developer(),
        model_name=f"model-{rid[-4:].lower()}",
        compute=ComputeInputs(declared_training_flop=6.3e24, parameters=70e9, training_tokens=15e12),
        submitted_at=NOW,
        rule_profile_id=PROFILE,
    )


def training_notice(rid: str) -> TrainingNoticeFiled:
    return TrainingNoticeFiled(
        registry_id=rid,
        notice_id=f"N-{rid}",
        developer=developer(),
        model_family="Reserved family",
        planned_training_flop=3e25,
        planned_start=date(2026, 1, 1),
        planned_end=date(2026, 3, 1),
        filed_at=NOW,
        rule_profile_id=PROFILE,
    )


def late_filing(rid: str, kind: FilingKind, *, days_late: int = 10) -> LateFilingRecorded:
    if kind is FilingKind.REGISTRATION:
        anchor = NOW - timedelta(days=days_late - 14)  # deployment; due 14 days before it
    else:
        anchor = NOW - timedelta(days=14 + days_late)  # threshold crossed; due 14 days after it
    return LateFilingRecorded(
        registry_id=rid,
        filing_kind=kind,
        filing_id=f"F-{uuid.uuid4().hex[:8]}",
        anchor_at=anchor,
        due_at=NOW - timedelta(days=days_late),
        filed_at=NOW,
        rule_profile_id=PROFILE,
    )


def incident(rid: str, *, days_after_discovery: int = 20, imminent: bool = False) -> IncidentReported:
    return IncidentReported(
        registry_id=rid,
        incident_id=f"INC-{uuid.uuid4().hex[:8]}",
        category="cyber",
        imminent_risk=imminent,
        discovered_at=NOW - timedelta(days=days_after_discovery),
        reported_at=NOW,
        rule_profile_id=PROFILE,
    )


def usage(*, registered: bool = False, source: str = "usage_report", name: str | None = None) -> UsageReported:
    return UsageReported(
        report_id=f"U-{uuid.uuid4().hex[:8]}",
        source=source,
        reporter="Cloud Host plc",
        model_name=name or f"Shadow {uuid.uuid4().hex[:6]}",
        developer_name="Shadow AI Inc",
        registry_id=registry_id() if registered else None,
        registered=registered,
        seen_at=NOW,
        context="https://example.invalid/app",
    )


def usage_key(event: UsageReported) -> str:
    return f"unregistered:{(event.developer_name or 'unknown-developer').lower()}/{event.model_name.lower()}"


def evaluation(rid: str, verdict: EvaluationVerdict, *, domain: str = "cyber_offence") -> EvaluationCompleted:
    return EvaluationCompleted(
        registry_id=rid,
        version=1,
        request_id=f"REQ-{uuid.uuid4().hex[:8]}",
        lab_id="lab-alpha",
        domain=DomainVerdict(domain=domain, verdict=verdict, scores={"ctf-suite": 0.71}),
        overall=verdict,
        completed_at=NOW,
    )


def deadline_missed(rid: str) -> EvaluationDeadlineMissed:
    return EvaluationDeadlineMissed(
        registry_id=rid,
        version=1,
        request_id=f"REQ-{uuid.uuid4().hex[:8]}",
        lab_id="lab-alpha",
        domain="chem_bio",
        deadline=NOW - timedelta(days=2),
        detected_at=NOW,
    )


def access_refused(rid: str) -> EvaluationAccessRefused:
    return EvaluationAccessRefused(
        registry_id=rid,
        version=1,
        request_id=f"REQ-{uuid.uuid4().hex[:8]}",
        lab_id="lab-alpha",
        detail="API access revoked the day before testing",
        reported_at=NOW,
    )


def status_change(rid: str, status: ModelStatus) -> ModelStatusChanged:
    return ModelStatusChanged(
        registry_id=rid,
        status=status,
        markets=["GB"],
        effective_date=NOW.date(),
        filed_at=NOW,
        rule_profile_id=PROFILE,
    )


async def published(state: ServiceState, subject: str, kind: str) -> list[dict[str, Any]]:
    """The data of every enforcement event of `kind` about `subject` in the outbox, oldest first."""
    rows = await state.db.fetch(
        "SELECT payload FROM outbox WHERE aggregateid = $1 AND type = $2 ORDER BY seq",
        subject,
        f"registry.enforcement.{kind}.v1",
    )
    return [json.loads(r["payload"])["data"] for r in rows]
