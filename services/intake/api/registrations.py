"""Registrations and amendments: a model's versioned, immutable record, with lineage to its base."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Header, Request, Response

from registry_contracts import ComputeInputs, new_envelope
from registry_contracts.events.intake import AmendmentSubmitted, FilingKind, LateFilingRecorded
from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError
from services.plumbing.service import ServiceState

from .. import store
from ..domain.deadlines import registration_deadline
from ..domain.filings import AmendmentRequest, cumulative_flop
from ..domain.modification import ModificationOutcome, classify_modification
from ..domain.record import split_restricted
from ..domain.registration import (
    RegistrationRequest,
    completed_training_errors,
    format_registry_id,
    implied_tier,
    registration_submitted,
)
from .common import (
    accept_filing,
    ensure_own_organisation,
    forget_answer,
    invalid,
    not_found,
    sealer_of,
    service,
    settings_of,
)

router = APIRouter()
IdempotencyKey = Annotated[
    str | None, Header(max_length=200, description="Retries with the same key get the first answer.")
]


def _biological(compute: ComputeInputs | None) -> bool:
    return bool(compute and compute.trained_mainly_on_biological_sequences)


async def create_registration(
    state: ServiceState,
    conn: asyncpg.Connection,
    body: RegistrationRequest,
    now: datetime,
    *,
    base_flop: float | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """Validate against today and the registry, then write the model, version 1, its events and answer."""
    errors = completed_training_errors(body.compute, today=now.date())
    organisation_id = body.developer.organisation_id
    existing = await store.find_model_id(conn, organisation_id, body.model_name)
    if existing is not None:
        raise ProblemError(
            409,
            "Model already registered",
            f"{body.model_name!r} of {organisation_id} is registered as {existing}; file an amendment instead",
            registry_id=existing,
        )
    if body.base_registry_id is not None and base_flop is None:
        base = await store.lock_model(conn, body.base_registry_id)
        if base is None:
            errors.append(("base_registry_id", f"no model is registered as {body.base_registry_id}"))
        else:
            base_flop = base["cumulative_training_flop"]
    registry_id = None
    if body.training_notice_id is not None:
        notice = await store.get_filing(conn, body.training_notice_id)
        if notice is None or notice["kind"] != "training_notice" or notice["organisation_id"] != organisation_id:
            errors.append(
                ("training_notice_id", f"your organisation filed no training notice {body.training_notice_id}")
            )
        elif await store.registry_id_taken(conn, notice["registry_id"]):
            errors.append(("training_notice_id", f"its registry id {notice['registry_id']} is already registered"))
        else:
            registry_id = notice["registry_id"]
    if errors:
        raise invalid(errors)
    profile, settings = state.profile, settings_of(state)
    if registry_id is None:
        sequence = await store.next_registry_sequence(conn, now.year)
        registry_id = format_registry_id(settings.registry_id_prefix, now.year, sequence)
    event = registration_submitted(
        body, registry_id=registry_id, version=1, submitted_at=now, profile=profile, base_model_training_flop=base_flop
    )
    total_flop = (base_flop or 0.0) + body.compute.declared_training_flop
    tier = implied_tier(total_flop, biological=_biological(body.compute), profile=profile).value
    envelope = new_envelope(event, subject=registry_id, correlation_id=correlation_id)
    record = body.model_dump(mode="json", exclude_none=True) | {
        "registry_id": registry_id,
        "version": 1,
        "kind": "registration",
        "submitted_at": now.isoformat(),
        "late": event.late,
        "tier": tier,
    }
    clear, restricted = split_restricted(record)
    sealed = sealer_of(state).seal(restricted, bound_to=registry_id) if restricted else None
    await store.insert_model(
        conn,
        registry_id=registry_id,
        organisation_id=organisation_id,
        model_name=body.model_name,
        developer=body.developer.model_dump(mode="json"),
        base_registry_id=body.base_registry_id,
        cumulative_training_flop=total_flop,
        tier=tier,
        submitted_at=now,
    )
    await store.insert_version(
        conn,
        registry_id=registry_id,
        version=1,
        kind="registration",
        record=clear,
        restricted=sealed,
        event_id=envelope.id,
        late=event.late,
        submitted_at=now,
    )
    await store.publish(conn, envelope)
    if event.late:
        deadline = registration_deadline(body.planned_deployment_date, now, profile)
        late = LateFilingRecorded(
            registry_id=registry_id,
            filing_kind=FilingKind.REGISTRATION,
            filing_id=f"{registry_id}/v1",
            anchor_at=deadline.anchor_at,
            due_at=deadline.due_at,
            filed_at=now,
            rule_profile_id=profile.id,
        )
        await store.publish(conn, new_envelope(late, subject=registry_id, correlation_id=str(envelope.id)))
    state.counters.add("registrations_accepted")
    return {
        "registry_id": registry_id,
        "version": 1,
        "late": event.late,
        "tier": tier,
        "event_id": str(envelope.id),
        "submitted_at": now.isoformat(),
    }


@router.post("/registrations", status_code=201, tags=["filings"], summary="Register a model (the record)")
async def submit_registration(
    body: RegistrationRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    ensure_own_organisation(caller, body.developer.organisation_id)
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        return await create_registration(state, conn, body, now)

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/registrations/{registry_id}",
    )


@router.post(
    "/registrations/{registry_id}/amendments",
    status_code=201,
    tags=["filings"],
    summary="Amend a model: a new version, or a new model above the one-third rule",
)
async def submit_amendment(
    registry_id: str,
    body: AmendmentRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        model = await store.lock_model(conn, registry_id)
        if model is None or model["organisation_id"] != caller.organisation_id:
            raise not_found(f"model is registered as {registry_id}")
        if body.expected_version is not None and body.expected_version != model["current_version"]:
            raise ProblemError(
                409,
                "Version conflict",
                f"you amended version {body.expected_version}, but {registry_id} is at version "
                f"{model['current_version']}; read it again and re-file",
                current_version=model["current_version"],
            )
        errors = (
            completed_training_errors(body.modification_compute, today=now.date(), prefix="modification_compute")
            if body.modification_compute
            else []
        )
        if errors:
            raise invalid(errors)
        base_flop = float(model["cumulative_training_flop"] or 0.0)
        modification_flop = body.modification_compute.declared_training_flop if body.modification_compute else None
        outcome = classify_modification(modification_flop=modification_flop, base_flop=base_flop, profile=state.profile)
        if outcome is ModificationOutcome.NEW_MODEL:
            return await _new_model_from(state, conn, model, body, base_flop, now)
        return await _amend(state, conn, model, body, base_flop, now)

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/registrations/{registry_id}",
    )


async def _current_record(conn: asyncpg.Connection, registry_id: str) -> tuple[dict[str, Any], bytes | None]:
    row = await store.get_version(conn, registry_id, None)
    assert row is not None
    return json.loads(row["filing"]), row["restricted"]


async def _new_model_from(
    state: ServiceState,
    conn: asyncpg.Connection,
    base: asyncpg.Record,
    body: AmendmentRequest,
    base_flop: float,
    now: datetime,
) -> dict[str, Any]:
    fraction = state.profile.thresholds.new_model_modification_fraction
    assert body.modification_compute is not None
    if body.new_model_name is None:
        raise invalid(
            [
                (
                    "new_model_name",
                    f"required: this modification used {body.modification_compute.declared_training_flop:.3g} FLOP, "
                    f"more than {fraction:.3g} of the base's {base_flop:.3g} FLOP, so it is a new model",
                )
            ]
        )
    base_record, _ = await _current_record(conn, base["registry_id"])
    descriptive = {k: v for k, v in base_record.items() if k in RegistrationRequest.model_fields}
    changes = body.changes.model_dump(mode="json", exclude_unset=True) if body.changes else {}
    request = RegistrationRequest.model_validate(
        descriptive
        | changes
        | {
            "model_name": body.new_model_name,
            "base_registry_id": base["registry_id"],
            "training_notice_id": None,
            "planned_deployment_date": body.planned_deployment_date,
            "compute": body.modification_compute.model_dump(mode="json", exclude_none=True),
        }
    )
    result = await create_registration(state, conn, request, now, base_flop=base_flop)
    return result | {"outcome": ModificationOutcome.NEW_MODEL.value, "base_registry_id": base["registry_id"]}


async def _amend(
    state: ServiceState,
    conn: asyncpg.Connection,
    model: asyncpg.Record,
    body: AmendmentRequest,
    base_flop: float,
    now: datetime,
) -> dict[str, Any]:
    registry_id, base_version = model["registry_id"], model["current_version"]
    version = base_version + 1
    previous, sealed = await _current_record(conn, registry_id)
    changes = body.changes.model_dump(mode="json", exclude_unset=True) if body.changes else {}
    cleared_changes, restricted_changes = split_restricted(changes)
    total_flop = cumulative_flop(base_flop, body.modification_compute)
    tier = implied_tier(
        total_flop,
        biological=bool(previous.get("compute", {}).get("trained_mainly_on_biological_sequences")),
        profile=state.profile,
    ).value
    if restricted_changes:
        sealer = sealer_of(state)
        merged = (sealer.open(sealed, bound_to=registry_id) if sealed else {}) | restricted_changes
        sealed = sealer.seal(merged, bound_to=registry_id)
    modification = (
        ComputeInputs.model_validate(body.modification_compute.model_dump()) if body.modification_compute else None
    )
    event = AmendmentSubmitted(
        registry_id=registry_id,
        version=version,
        base_version=base_version,
        developer=previous["developer"],
        model_name=model["model_name"],
        kind=body.kind,
        description=body.description,
        modification_compute=modification,
        cumulative_training_flop=total_flop,
        planned_deployment_date=body.planned_deployment_date,
        submitted_at=now,
        rule_profile_id=state.profile.id,
    )
    envelope = new_envelope(event, subject=registry_id)
    amendment = body.model_dump(mode="json", exclude_none=True, exclude={"changes", "expected_version"})
    record = (
        previous
        | cleared_changes
        | {
            "version": version,
            "base_version": base_version,
            "kind": "amendment",
            "submitted_at": now.isoformat(),
            "late": False,
            "tier": tier,
            "amendment": amendment,
        }
    )
    await store.insert_version(
        conn,
        registry_id=registry_id,
        version=version,
        kind="amendment",
        record=record,
        restricted=sealed,
        event_id=envelope.id,
        late=False,
        submitted_at=now,
        base_version=base_version,
    )
    await store.advance_model(conn, registry_id, version=version, cumulative_training_flop=total_flop, tier=tier)
    await store.publish(conn, envelope)
    forget_answer(state, registry_id)
    state.counters.add("amendments_accepted")
    return {
        "outcome": ModificationOutcome.AMENDMENT.value,
        "registry_id": registry_id,
        "version": version,
        "base_version": base_version,
        "cumulative_training_flop": total_flop,
        "tier": tier,
        "event_id": str(envelope.id),
        "submitted_at": now.isoformat(),
    }
