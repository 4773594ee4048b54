"""Applying a lab's submission: accept or reject it, and publish what an accepted one means.

One function for both ways a result arrives (the lab's own Kafka result topic, or the HTTP fallback), so
both are judged identically. `lab_id` is who the lab *is* (the topic it could write, or its token), never
what the payload claims. Every submission is kept with its assessment, accepted or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from registry_contracts import Envelope, new_envelope
from registry_contracts.events.evaluations import (
    DomainVerdict,
    EvaluationAccessRefused,
    EvaluationCompleted,
    EvaluationResultSubmitted,
    EvaluationVerdict,
)
from services.plumbing import audit

from . import store
from .domain import (
    EvaluationOutcome,
    RejectionReason,
    RequestStatus,
    SubmittedResult,
    assess_access_refusal,
    assess_result,
    overall_outcome,
)


def _rejected(reason: RejectionReason, detail: str) -> dict[str, Any]:
    return {"accepted": False, "rejection": reason.value, "reasons": [detail]}


async def apply_lab_result(
    conn: asyncpg.Connection,
    *,
    lab_id: str,
    envelope: Envelope[EvaluationResultSubmitted],
    via: str,
    now: datetime,
) -> dict[str, Any]:
    """Judge one submission inside the caller's transaction; returns the stored assessment.

    A submission id seen before returns its first assessment and has no second effect.
    """
    seen = await store.submission(conn, envelope.id)
    if seen is not None:
        return dict(seen["assessment"])
    result = envelope.data
    request = await store.get_request(conn, result.request_id, for_update=True)
    outcome: dict[str, Any]
    if request is None:
        outcome = _rejected(RejectionReason.UNKNOWN_REQUEST, f"no request {result.request_id} exists")
    elif result.lab_id != lab_id:
        outcome = _rejected(
            RejectionReason.WRONG_LAB, f"the payload names lab {result.lab_id!r} but came from lab {lab_id!r}"
        )
    elif result.access_refused:
        refusal = assess_access_refusal(
            request=request, lab_id=lab_id, registry_id=result.registry_id, model_version=result.version
        )
        if refusal is not None:
            outcome = _rejected(*refusal)
        else:
            await store.set_request_status(conn, request.request_id, RequestStatus.ACCESS_REFUSED, now)
            refused = EvaluationAccessRefused(
                registry_id=request.registry_id,
                version=request.model_version,
                request_id=request.request_id,
                lab_id=lab_id,
                detail=result.notes or "the lab reported that the developer refused evaluation access",
                reported_at=now,
            )
            await store.enqueue_outcome(conn, _caused(refused, request.registry_id, envelope))
            outcome = {"accepted": True, "rejection": None, "access_refused": True, "reasons": [refused.detail]}
    elif not result.suite_scores:
        outcome = _rejected(RejectionReason.NO_SCORES, "suite_scores is empty and access_refused is false")
    else:
        submitted = SubmittedResult(
            request_id=result.request_id,
            lab_id=lab_id,
            registry_id=result.registry_id,
            model_version=result.version,
            suite_scores=result.suite_scores,
            summary=result.notes or "",
        )
        assessment = assess_result(request=request, submitted=submitted, now=now)
        outcome = assessment.model_dump(mode="json")
        outcome["rejection"] = assessment.rejection.value if assessment.rejection else None
        if assessment.accepted and assessment.domain_outcome is not None:
            await store.set_request_status(conn, request.request_id, RequestStatus.COMPLETED, now)
            verdicts = await store.add_domain_verdict(
                conn, request=request, verdict=assessment.domain_outcome.value, at=now
            )
            completed = EvaluationCompleted(
                registry_id=request.registry_id,
                version=request.model_version,
                request_id=request.request_id,
                lab_id=lab_id,
                domain=DomainVerdict(
                    domain=request.domain,
                    verdict=EvaluationVerdict(assessment.domain_outcome.value),
                    scores=dict(result.suite_scores),
                ),
                overall=EvaluationVerdict(overall_outcome(EvaluationOutcome(v) for v in verdicts).value),
                late=assessment.late,
                completed_at=now,
            )
            await store.enqueue_outcome(conn, _caused(completed, request.registry_id, envelope))
    outcome["submission_id"] = str(envelope.id)
    outcome["request_id"] = result.request_id
    await audit.record(
        conn,
        actor=f"lab:{lab_id}",
        action="decision.result_accepted" if outcome["accepted"] else "decision.result_rejected",
        subject=request.registry_id if request is not None else result.registry_id,
        detail={
            "request_id": result.request_id,
            "submission_id": outcome["submission_id"],
            "via": via,
            "access_refused": result.access_refused,
            "rejection": outcome.get("rejection"),
        },
    )
    await store.record_submission(
        conn,
        submission_id=envelope.id,
        request_id=result.request_id,
        lab_id=lab_id,
        via=via,
        accepted=bool(outcome["accepted"]),
        rejection=outcome.get("rejection"),
        assessment=outcome,
        submission=result.model_dump(mode="json"),
    )
    return outcome


def _caused(event: Any, registry_id: str, cause: Envelope[Any]) -> Envelope[Any]:
    return new_envelope(event, subject=registry_id, correlation_id=cause.correlationid, causation_id=str(cause.id))
