"""Training notices, status changes, incident reports, compute attestations and usage reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request, Response

from registry_contracts import EventData, new_envelope
from registry_contracts.events.intake import FilingKind, LateFilingRecorded, ModelStatus, ModelStatusChanged
from services.plumbing.auth import Principal, Role, optional_caller, require
from services.plumbing.http import ProblemError
from services.plumbing.service import ServiceState

from .. import store
from ..domain.deadlines import Deadline, deployment_deadline, incident_deadline, training_notice_deadline
from ..domain.filings import (
    AttestationRequest,
    IncidentReportRequest,
    StatusChangeRequest,
    TrainingNoticeRequest,
    UsageReportRequest,
    compute_attested,
    incident_reported,
    not_in_future,
    training_notice_filed,
    unregistered_subject,
    usage_reported,
)
from ..domain.registration import format_registry_id
from .common import (
    accept_filing,
    ensure_own_organisation,
    forget_answer,
    invalid,
    not_found,
    optional_bearer,
    sealer_of,
    service,
    settings_of,
)
from .registrations import IdempotencyKey

router = APIRouter()


async def new_filing_id(conn: asyncpg.Connection, prefix: str, now: datetime) -> str:
    return format_registry_id(prefix, now.year, await store.next_filing_sequence(conn, prefix, now.year))


async def _late(
    conn: asyncpg.Connection,
    state: ServiceState,
    *,
    registry_id: str,
    kind: FilingKind,
    filing_id: str,
    deadline: Deadline,
    cause: str,
) -> None:
    """A late filing is accepted; the breach is published for enforcement."""
    event = LateFilingRecorded(
        registry_id=registry_id,
        filing_kind=kind,
        filing_id=filing_id,
        anchor_at=deadline.anchor_at,
        due_at=deadline.due_at,
        filed_at=deadline.filed_at,
        rule_profile_id=state.profile.id,
    )
    await store.publish(conn, new_envelope(event, subject=registry_id, correlation_id=cause))
    state.counters.add("late_filings_recorded")


def filing_record(event: EventData, **extra: Any) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude_none=True) | extra


async def owned_model(conn: asyncpg.Connection, caller: Principal, registry_id: str) -> asyncpg.Record:
    model = await store.lock_model(conn, registry_id)
    if model is None or model["organisation_id"] != caller.organisation_id:
        raise not_found(f"model is registered as {registry_id}")
    return model


@router.post("/training-notices", status_code=201, tags=["filings"], summary="Give notice of a training run")
async def submit_training_notice(
    body: TrainingNoticeRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    ensure_own_organisation(caller, body.developer.organisation_id)
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        notice_id = await new_filing_id(conn, "TN", now)
        sequence = await store.next_registry_sequence(conn, now.year)
        registry_id = format_registry_id(settings_of(state).registry_id_prefix, now.year, sequence)
        deadline = training_notice_deadline(body.threshold_crossed_on, now, state.profile)
        event = training_notice_filed(
            body, notice_id=notice_id, registry_id=registry_id, filed_at=now, late=deadline.late, profile=state.profile
        )
        envelope = new_envelope(event, subject=registry_id)
        await store.insert_filing(
            conn,
            filing_id=notice_id,
            kind="training_notice",
            organisation_id=body.developer.organisation_id,
            registry_id=registry_id,
            record=filing_record(event, kind="training_notice"),
            restricted=None,
            late=deadline.late,
            event_id=envelope.id,
            filed_at=now,
        )
        await store.publish(conn, envelope)
        if deadline.late:
            kind = FilingKind.TRAINING_NOTICE
            await _late(
                conn,
                state,
                registry_id=registry_id,
                kind=kind,
                filing_id=notice_id,
                deadline=deadline,
                cause=str(envelope.id),
            )
        return {
            "notice_id": notice_id,
            "registry_id": registry_id,
            "late": deadline.late,
            "due_at": deadline.due_at.isoformat(),
            "event_id": str(envelope.id),
            "filed_at": now.isoformat(),
        }

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{notice_id}",
    )


@router.post(
    "/registrations/{registry_id}/status-changes",
    status_code=201,
    tags=["filings"],
    summary="Deployed, withdrawn, retired",
)
async def submit_status_change(
    registry_id: str,
    body: StatusChangeRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        model = await owned_model(conn, caller, registry_id)
        filing_id = await new_filing_id(conn, "ST", now)
        event = ModelStatusChanged(
            registry_id=registry_id,
            status=body.status,
            markets=body.markets,
            effective_date=body.effective_date,
            filed_at=now,
            rule_profile_id=state.profile.id,
        )
        envelope = new_envelope(event, subject=registry_id)
        late = False
        if body.status is ModelStatus.DEPLOYED:
            registered_at = await store.first_submitted_at(conn, registry_id)
            assert registered_at is not None
            deadline = deployment_deadline(registered_at, body.effective_date, state.profile)
            late = deadline.late
        record = filing_record(event, kind="status_change", filing_id=filing_id, late=late)
        await store.insert_filing(
            conn,
            filing_id=filing_id,
            kind="status_change",
            organisation_id=model["organisation_id"],
            registry_id=registry_id,
            record=record,
            restricted=None,
            late=late,
            event_id=envelope.id,
            filed_at=now,
        )
        await store.set_status(conn, registry_id, body.status.value)
        await store.publish(conn, envelope)
        if late:
            # Deployed sooner after registering than the profile allows: the registration was late.
            kind = FilingKind.REGISTRATION
            await _late(
                conn,
                state,
                registry_id=registry_id,
                kind=kind,
                filing_id=f"{registry_id}/v1",
                deadline=deadline,
                cause=str(envelope.id),
            )
        forget_answer(state, registry_id)
        return {
            "filing_id": filing_id,
            "registry_id": registry_id,
            "status": body.status.value,
            "late": late,
            "event_id": str(envelope.id),
        }

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{filing_id}",
    )


@router.post(
    "/registrations/{registry_id}/incidents",
    status_code=201,
    tags=["filings"],
    summary="Report a critical safety incident",
)
async def submit_incident(
    registry_id: str,
    body: IncidentReportRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        errors = not_in_future({"discovered_at": body.discovered_at}, now=now)
        if errors:
            raise invalid(errors)
        model = await owned_model(conn, caller, registry_id)
        incident_id = await new_filing_id(conn, "INC", now)
        deadline = incident_deadline(body.discovered_at, body.imminent_risk, now, state.profile)
        event = incident_reported(
            body,
            registry_id=registry_id,
            incident_id=incident_id,
            reported_at=now,
            late=deadline.late,
            profile=state.profile,
        )
        envelope = new_envelope(event, subject=registry_id)
        restricted = body.model_dump(mode="json", include={"narrative", "actions_taken"}, exclude_none=True)
        await store.insert_filing(
            conn,
            filing_id=incident_id,
            kind="incident_report",
            organisation_id=model["organisation_id"],
            registry_id=registry_id,
            record=filing_record(
                event, kind="incident_report", due_at=deadline.due_at.isoformat(), restricted_fields=sorted(restricted)
            ),
            restricted=sealer_of(state).seal(restricted, bound_to=incident_id),
            late=deadline.late,
            event_id=envelope.id,
            filed_at=now,
        )
        await store.publish(conn, envelope)
        if deadline.late:
            kind = FilingKind.INCIDENT_REPORT
            await _late(
                conn,
                state,
                registry_id=registry_id,
                kind=kind,
                filing_id=incident_id,
                deadline=deadline,
                cause=str(envelope.id),
            )
        return {
            "incident_id": incident_id,
            "registry_id": registry_id,
            "late": deadline.late,
            "due_at": deadline.due_at.isoformat(),
            "event_id": str(envelope.id),
        }

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{incident_id}",
    )


@router.post("/attestations", status_code=201, tags=["filings"], summary="Attest a training run you hosted")
async def submit_attestation(
    body: AttestationRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.COMPUTE_PROVIDER))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    if not caller.organisation_id:
        raise ProblemError(403, "Forbidden", "a compute provider's token must name its organisation (claim 'org')")
    provider_id = caller.organisation_id

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        errors = not_in_future({"period_start": body.period_start, "period_end": body.period_end}, now=now)
        if body.registry_id is not None:
            model = await store.lock_model(conn, body.registry_id)
            if model is None or model["organisation_id"] != body.customer.organisation_id:
                errors.append(
                    ("registry_id", f"{body.customer.organisation_id} has no model registered as {body.registry_id}")
                )
        if errors:
            raise invalid(errors)
        attestation_id = await new_filing_id(conn, "ATT", now)
        event = compute_attested(body, attestation_id=attestation_id, provider_id=provider_id, attested_at=now)
        envelope = new_envelope(event, subject=f"org:{body.customer.organisation_id}")
        await store.insert_filing(
            conn,
            filing_id=attestation_id,
            kind="compute_attestation",
            organisation_id=provider_id,
            registry_id=body.registry_id,
            record=filing_record(event, kind="compute_attestation"),
            restricted=None,
            late=False,
            event_id=envelope.id,
            filed_at=now,
        )
        await store.publish(conn, envelope)
        return {"attestation_id": attestation_id, "event_id": str(envelope.id), "attested_at": now.isoformat()}

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{attestation_id}",
    )


@router.post(
    "/usage-reports",
    status_code=201,
    tags=["public"],
    summary="Report a model seen in use (no login needed)",
    dependencies=[Depends(optional_bearer)],
)
async def submit_usage_report(
    body: UsageReportRequest,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    caller = await optional_caller(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        errors = not_in_future({"seen_at": body.seen_at}, now=now)
        if errors:
            raise invalid(errors)
        return await record_usage(
            service(request),
            conn,
            now,
            source="usage_report",
            model_name=body.model_name,
            developer_name=body.developer_name,
            registry_id=body.registry_id,
            seen_at=body.seen_at,
            reporter=body.reporter or (caller.organisation_id or caller.subject if caller else None),
            reporter_organisation=caller.organisation_id if caller else None,
            context=body.context,
        )

    return await accept_filing(request, response, body=body, caller=caller, idempotency_key=idempotency_key, work=work)


async def record_usage(
    state: ServiceState,
    conn: asyncpg.Connection,
    now: datetime,
    *,
    source: str,
    model_name: str,
    developer_name: str | None,
    registry_id: str | None,
    seen_at: datetime,
    reporter: str | None,
    reporter_organisation: str | None,
    context: str | None,
) -> dict[str, Any]:
    """A usage report or an unknown lookup, resolved against the registry, as a UsageReported event."""
    known = await store.standing_row(conn, registry_id) if registry_id else None
    if known is None and developer_name:
        matches = await store.standing_rows_by_name(conn, developer_name, model_name)
        known = matches[0] if matches else None
    resolved = known["registry_id"] if known is not None else None
    report_id = await new_filing_id(conn, "USE", now)
    event = usage_reported(
        report_id=report_id,
        source=source,
        model_name=model_name,
        developer_name=developer_name,
        registry_id=resolved,
        seen_at=seen_at,
        reporter=reporter,
        context=context,
    )
    envelope = new_envelope(event, subject=resolved or unregistered_subject(developer_name, model_name))
    await store.insert_filing(
        conn,
        filing_id=report_id,
        kind=source,
        organisation_id=reporter_organisation,
        registry_id=resolved,
        record=filing_record(event, kind=source),
        restricted=None,
        late=False,
        event_id=envelope.id,
        filed_at=now,
    )
    await store.publish(conn, envelope)
    state.counters.add(f"{source}s_recorded")
    return {
        "report_id": report_id,
        "registered": resolved is not None,
        "registry_id": resolved,
        "event_id": str(envelope.id),
    }
