"""Intake's HTTP API: filings in, records and standing out."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from registry_contracts import new_envelope
from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError
from services.plumbing.service import ServiceState

from . import store
from .domain import RegistrationRequest, format_registry_id, registration_submitted
from .settings import IntakeSettings

router = APIRouter(prefix="/v1")


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


@router.post("/registrations", status_code=201, tags=["filings"], summary="Register a model")
async def submit_registration(
    body: RegistrationRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    state = _state(request)
    settings = state.settings
    assert isinstance(settings, IntakeSettings)
    organisation_id = body.developer.organisation_id
    if caller.organisation_id != organisation_id:
        raise ProblemError(
            403,
            "Forbidden",
            f"your token is scoped to organisation {caller.organisation_id!r}; you cannot file for {organisation_id!r}",
        )
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    async with state.db.acquire() as conn, conn.transaction():
        if idempotency_key:
            await store.lock_idempotency_key(conn, organisation_id, idempotency_key)
            previous = await store.find_idempotent_response(conn, organisation_id, idempotency_key)
            if previous is not None:
                if previous["request_hash"] != request_hash:
                    raise ProblemError(
                        422,
                        "Idempotency key reused",
                        "this Idempotency-Key was already used for a different request body",
                    )
                response.status_code = previous["status_code"]
                response.headers["Idempotent-Replayed"] = "true"
                replay: dict[str, Any] = json.loads(previous["response"])
                return replay
        existing = await store.find_model_id(conn, organisation_id, body.model_name)
        if existing is not None:
            raise ProblemError(
                409,
                "Model already registered",
                f"{body.model_name!r} of {organisation_id} is registered as {existing}; file an amendment instead",
                registry_id=existing,
            )
        now = datetime.now(UTC)
        registry_id = format_registry_id(
            settings.registry_id_prefix, now.year, await store.next_registry_sequence(conn, now.year)
        )
        event = registration_submitted(
            body, registry_id=registry_id, version=1, submitted_at=now, profile=state.profile
        )
        envelope = new_envelope(event, subject=registry_id)
        await store.insert_registration(conn, envelope)
        result = {
            "registry_id": registry_id,
            "version": 1,
            "late": event.late,
            "event_id": str(envelope.id),
            "submitted_at": now.isoformat(),
        }
        if idempotency_key:
            await store.save_idempotent_response(conn, organisation_id, idempotency_key, request_hash, 201, result)
    state.counters.add("registrations_accepted")
    response.headers["Location"] = f"/v1/registrations/{registry_id}"
    return result


@router.get("/registrations/{registry_id}", tags=["records"], summary="A model's current record")
async def get_registration(
    registry_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT, Role.OFFICER, Role.ANALYST, Role.ADMIN))],
) -> dict[str, Any]:
    model = await store.get_model(_state(request).db, registry_id)
    # Another organisation's record answers exactly like a missing one, so ids cannot be probed.
    if model is None or (not caller.is_agency_staff and model["organisation_id"] != caller.organisation_id):
        raise ProblemError(404, "Not found", f"no model is registered as {registry_id}")
    return model
