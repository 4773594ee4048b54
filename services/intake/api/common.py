"""What every intake endpoint shares: the service state, callers and audiences, idempotent acceptance."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import Request, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from services.plumbing import audit
from services.plumbing.auth import Principal, Role
from services.plumbing.http import ProblemError
from services.plumbing.service import ServiceState

from .. import store
from ..domain.record import Audience, redact
from ..domain.registration import FieldError
from ..keys import RestrictedSealer
from ..settings import IntakeSettings
from ..signing import StandingSigner

# Declares the optional bearer scheme in OpenAPI; verification itself is plumbing's `optional_caller`.
optional_bearer = HTTPBearer(auto_error=False, description="Optional: a registry token.")


def service(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def settings_of(state: ServiceState) -> IntakeSettings:
    settings = state.settings
    assert isinstance(settings, IntakeSettings)
    return settings


def sealer_of(state: ServiceState) -> RestrictedSealer:
    sealer: RestrictedSealer = state.extras["sealer"]
    return sealer


def signer_of(state: ServiceState) -> StandingSigner:
    signer: StandingSigner = state.extras["signer"]
    return signer


def forget_answer(state: ServiceState, registry_id: str) -> None:
    """After a filing changed what a model's public answer states: drop this process's cached copy (the stored
    signed copy is dropped by the database itself, migration 003)."""
    state.extras["answer_cache"].forget(registry_id)


def audience_for(caller: Principal | None, settings: IntakeSettings) -> Audience:
    """Which redaction a caller gets: restricted fields only for named, cleared staff."""
    if caller is None:
        return Audience.PUBLIC
    if caller.is_agency_staff:
        cleared = caller.subject in settings.restricted_readers
        return Audience.RESTRICTED_READER if cleared else Audience.STAFF
    if caller.has(Role.REGISTRANT):
        return Audience.REGISTRANT
    return Audience.PUBLIC


def present(
    state: ServiceState, caller: Principal | None, record: dict[str, Any], sealed: bytes | None, *, bound_to: str
) -> dict[str, Any]:
    """The one path every record and filing takes outward: restricted fields opened for cleared staff only,
    then the one redaction for the caller's audience."""
    audience = audience_for(caller, settings_of(state))
    if sealed is not None and audience is Audience.RESTRICTED_READER:
        record = record | sealer_of(state).open(sealed, bound_to=bound_to)
    return redact(record, audience)


def ensure_own_organisation(caller: Principal, organisation_id: str) -> None:
    """A registrant files only for its own organisation (403 names both, so the mistake is obvious)."""
    if caller.organisation_id != organisation_id:
        raise ProblemError(
            403,
            "Forbidden",
            f"your token is scoped to organisation {caller.organisation_id!r}; you cannot file for {organisation_id!r}",
        )


def can_read(caller: Principal, organisation_id: str | None) -> bool:
    """Staff read everything; anyone else only what its own organisation filed."""
    return caller.is_agency_staff or (organisation_id is not None and caller.organisation_id == organisation_id)


def not_found(what: str) -> ProblemError:
    # Another organisation's record answers exactly like a missing one, so ids cannot be probed.
    return ProblemError(404, "Not found", f"no {what}")


def invalid(errors: list[FieldError]) -> ProblemError:
    """The same problem+json shape as request validation: every bad field with its reason."""
    listed = [{"field": field, "reason": reason} for field, reason in errors]
    detail = f"{len(listed)} field(s) are invalid: " + "; ".join(f"{f}: {r}" for f, r in errors)
    return ProblemError(422, "Invalid request", detail, errors=listed)


def _filing_kind(request: Request) -> str:
    """The filing's kind for the audit log, from its endpoint's name (submit_registration -> registration)."""
    route = request.scope.get("route")
    return str(getattr(route, "name", request.url.path)).removeprefix("submit_")


async def audit_read(state: ServiceState, caller: Principal, subject: str) -> None:
    """Log a read that showed more than the public projection (DESIGN: every confidential read)."""
    audience = audience_for(caller, settings_of(state))
    if audience is not Audience.PUBLIC:
        action = "read.restricted" if audience is Audience.RESTRICTED_READER else "read.confidential"
        await audit.record(state.db, actor=caller.subject, action=action, subject=subject)


def idempotency_scope(caller: Principal | None) -> str:
    """Keys are per organisation (per role), so two organisations' keys never collide."""
    if caller is None:
        return "public"
    if caller.has(Role.COMPUTE_PROVIDER) and not caller.has(Role.REGISTRANT):
        return f"provider:{caller.organisation_id}"
    if caller.organisation_id:
        return caller.organisation_id
    return f"subject:{caller.subject}"


async def refuse_nul_in_url(request: Request) -> None:
    """Router dependency: NUL in a path or query value is refused clearly (PostgreSQL text cannot hold it)."""
    values = [*request.path_params.values(), *request.query_params.values()]
    if any("\x00" in str(v) for v in values):
        raise ProblemError(400, "Bad request", "the URL contains the NUL character (%00)")


def fields_with_nul(value: Any, path: str = "") -> list[str]:
    """Dotted paths of strings holding NUL, which PostgreSQL text cannot store."""
    if isinstance(value, str):
        return [path or "(body)"] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in fields_with_nul(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in fields_with_nul(v, f"{path}.{i}")]
    return []


Work = Callable[[asyncpg.Connection, datetime], Awaitable[dict[str, Any]]]


async def accept_filing(
    request: Request,
    response: Response,
    *,
    body: BaseModel,
    caller: Principal | None,
    idempotency_key: str | None,
    work: Work,
    status: int = 201,
    location: str | None = None,
) -> dict[str, Any]:
    """Run `work` in one transaction; with an Idempotency-Key, a retry (even concurrent) gets the first answer.
    `location` names the new resource from the answer's fields, e.g. "/v1/filings/{filing_id}"."""
    nul_fields = fields_with_nul(body.model_dump(mode="json"))
    if nul_fields:
        raise invalid([(field, "text cannot contain the NUL character (\\u0000)") for field in nul_fields])
    state = service(request)
    scope = idempotency_scope(caller)
    request_hash = hashlib.sha256(f"{request.url.path}\n{body.model_dump_json()}".encode()).hexdigest()
    async with state.db.acquire() as conn, conn.transaction():
        if idempotency_key:
            await store.lock_idempotency_key(conn, scope, idempotency_key)
            previous = await store.find_idempotent_response(conn, scope, idempotency_key)
            if previous is not None:
                if previous["request_hash"] != request_hash:
                    raise ProblemError(
                        422,
                        "Idempotency key reused",
                        "this Idempotency-Key was already used for a different request (path or body)",
                    )
                response.status_code = previous["status_code"]
                response.headers["Idempotent-Replayed"] = "true"
                replay: dict[str, Any] = json.loads(previous["response"])
                return _located(response, replay, location)
        result = await work(conn, datetime.now(UTC))
        response.status_code = status
        await audit.record(
            conn,
            actor=caller.subject if caller else "anonymous",
            action=f"filing.{_filing_kind(request)}",
            subject=str(
                result.get("registry_id")
                or next((v for k, v in result.items() if k.endswith("_id") and v), request.url.path)
            ),
            detail={k: v for k, v in result.items() if k.endswith("_id") or k == "late"},
        )
        if idempotency_key:
            await store.save_idempotent_response(conn, scope, idempotency_key, request_hash, status, result)
    return _located(response, result, location)


def _located(response: Response, answer: dict[str, Any], location: str | None) -> dict[str, Any]:
    """The answer, with a Location header naming the record it created (first answer or replay alike)."""
    if location:
        response.headers["Location"] = location.format(**answer)
    return answer
