"""Evaluations' HTTP API: the lab registry (admin), plans (staff), and the lab-facing HTTP fallback."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from registry_contracts import new_envelope
from registry_contracts.events.evaluations import EvaluationResultSubmitted
from services.plumbing import audit
from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError
from services.plumbing.service import ServiceState

from . import store
from .domain import (
    CatalogueError,
    EvaluationCatalogue,
    Lab,
    PlanTrigger,
    RejectionReason,
    RequestStatus,
    TriggerKind,
    lab_request_message,
)
from .handlers import CATALOGUE_KEY, known_model, plan_and_store
from .jobs import wake_planning
from .lab_access import LabProvisioningError, ensure_lab_principal, ensure_lab_topics, lab_access
from .lab_results import apply_lab_result
from .settings import EvaluationsSettings

router = APIRouter(prefix="/v1")
STAFF = (Role.OFFICER, Role.ANALYST, Role.ADMIN)
# Fixed forever: an Idempotency-Key maps to the same submission id on every retry.
SUBMISSION_NAMESPACE = uuid.UUID("0d7d3f0e-8a0b-5f63-9d1e-3b1b2c9d4e55")


class SuspensionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class LabResultBody(BaseModel):
    """A lab's result through the HTTP fallback (the lab is the caller; its id comes from the path and token)."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1)
    registry_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    suite_scores: dict[str, FiniteFloat] = Field(default_factory=dict)
    access_refused: bool = False
    notes: str | None = Field(default=None, max_length=10_000)


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def _settings(request: Request) -> EvaluationsSettings:
    settings: EvaluationsSettings = _state(request).settings  # type: ignore[assignment]
    return settings


def _own_lab_or_staff(caller: Principal, lab_id: str) -> None:
    if caller.is_agency_staff:
        return
    if caller.lab_id != lab_id:
        raise ProblemError(403, "Forbidden", f"this token is scoped to lab {caller.lab_id!r}, not {lab_id!r}")


async def _lab_or_404(request: Request, lab_id: str) -> Lab:
    lab = await store.get_lab(_state(request).db, lab_id)
    if lab is None:
        raise ProblemError(404, "Not found", f"no lab {lab_id!r} is registered")
    return lab


async def onboard_lab(state: ServiceState, lab: Lab, *, actor: str) -> dict[str, Any]:
    """Provision the lab's Kafka topics (and SASL user and ACLs) before the lab can be assigned anything."""
    settings: EvaluationsSettings = state.settings  # type: ignore[assignment]
    provisioned = await store.lab_provisioning(state.db, lab.lab_id)
    first_principal = settings.kafka_uses_sasl and not (provisioned and provisioned["kafka_principal"])
    try:
        await ensure_lab_topics(settings, [lab.lab_id])
        password = await ensure_lab_principal(settings, lab.lab_id, new_password=first_principal)
    except (LabProvisioningError, OSError) as error:
        raise ProblemError(503, "Kafka unavailable", f"the lab's topics could not be provisioned: {error}") from error
    access = lab_access(settings, lab.lab_id, password=password)
    async with state.db.acquire() as conn, conn.transaction():
        await store.upsert_lab(conn, lab)
        await store.mark_lab_provisioned(conn, lab.lab_id, principal=access.principal)
        await audit.record(conn, actor=actor, action="lab.accredited", subject=lab.lab_id, detail=lab.model_dump())
    wake_planning(state)  # a domain waiting for a lab may fit this one
    return {**lab.model_dump(mode="json"), "kafka": access.as_json()}


@router.put("/labs/{lab_id}", tags=["labs"], summary="Accredit, update or onboard an evaluation lab")
async def put_lab(
    lab_id: str, lab: Lab, request: Request, caller: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    if lab.lab_id != lab_id:
        raise ProblemError(
            422, "Invalid request", f"lab_id in the body ({lab.lab_id}) differs from the path ({lab_id})"
        )
    return await onboard_lab(_state(request), lab, actor=caller.subject)


@router.post("/labs/{lab_id}/suspension", tags=["labs"], summary="Suspend a lab (no new requests)")
async def suspend_lab(
    lab_id: str, body: SuspensionBody, request: Request, caller: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    lab = (await _lab_or_404(request, lab_id)).suspend(body.reason)
    await _save_lab_change(request, lab, actor=caller.subject, action="lab.suspended", reason=body.reason)
    return lab.model_dump(mode="json")


@router.delete("/labs/{lab_id}/suspension", tags=["labs"], summary="Lift a lab's suspension")
async def reinstate_lab(
    lab_id: str, request: Request, caller: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    lab = (await _lab_or_404(request, lab_id)).reinstate()
    await _save_lab_change(request, lab, actor=caller.subject, action="lab.reinstated")
    wake_planning(_state(request))
    return lab.model_dump(mode="json")


async def _save_lab_change(request: Request, lab: Lab, *, actor: str, action: str, reason: str | None = None) -> None:
    async with _state(request).db.acquire() as conn, conn.transaction():
        await store.upsert_lab(conn, lab)
        await audit.record(conn, actor=actor, action=action, subject=lab.lab_id, detail={"reason": reason})


@router.post("/labs/{lab_id}/kafka-credentials", tags=["labs"], summary="Issue the lab a new Kafka password")
async def rotate_lab_password(
    lab_id: str, request: Request, caller: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    await _lab_or_404(request, lab_id)
    settings = _settings(request)
    if not settings.kafka_uses_sasl:
        raise ProblemError(409, "Conflict", "Kafka runs without SASL here: labs have no Kafka passwords")
    try:
        password = await ensure_lab_principal(settings, lab_id, new_password=True)
    except LabProvisioningError as error:
        raise ProblemError(503, "Kafka unavailable", str(error)) from error
    await audit.record(_state(request).db, actor=caller.subject, action="lab.credentials_rotated", subject=lab_id)
    return lab_access(settings, lab_id, password=password).as_json()


@router.get("/labs", tags=["labs"], summary="Accredited evaluation labs")
async def get_labs(request: Request, caller: Annotated[Principal, Depends(require(*STAFF))]) -> list[dict[str, Any]]:
    return [lab.model_dump(mode="json") for lab in await store.list_labs(_state(request).db)]


@router.get("/labs/{lab_id}", tags=["labs"], summary="One lab and how it connects to Kafka")
async def get_lab(
    lab_id: str, request: Request, caller: Annotated[Principal, Depends(require(Role.LAB, *STAFF))]
) -> dict[str, Any]:
    _own_lab_or_staff(caller, lab_id)
    lab = await _lab_or_404(request, lab_id)
    return {**lab.model_dump(mode="json"), "kafka": lab_access(_settings(request), lab_id).as_json()}


@router.get("/labs/{lab_id}/requests", tags=["lab fallback"], summary="The lab's open evaluation requests")
async def get_lab_requests(
    lab_id: str, request: Request, caller: Annotated[Principal, Depends(require(Role.LAB, *STAFF))]
) -> list[dict[str, Any]]:
    """What the lab's request topic carries, for labs that cannot run a Kafka client (redacted payloads)."""
    _own_lab_or_staff(caller, lab_id)
    await _lab_or_404(request, lab_id)
    open_requests = await store.requests_for_lab(_state(request).db, lab_id, status=RequestStatus.OPEN)
    return [lab_request_message(r).model_dump(mode="json") for r in open_requests]


@router.post(
    "/labs/{lab_id}/results", tags=["lab fallback"], summary="Submit a result (HTTP fallback)", status_code=201
)
async def post_lab_result(
    lab_id: str,
    body: LabResultBody,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.LAB))],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Judged exactly like a result on the lab's result topic. A retry with the same Idempotency-Key
    returns the first answer.
    """
    if caller.lab_id != lab_id:
        raise ProblemError(403, "Forbidden", f"this token is scoped to lab {caller.lab_id!r}, not {lab_id!r}")
    await _lab_or_404(request, lab_id)
    now = datetime.now(UTC)
    submission_id = uuid.uuid5(SUBMISSION_NAMESPACE, f"{lab_id}\x1f{idempotency_key}") if idempotency_key else None
    result = EvaluationResultSubmitted(lab_id=lab_id, submitted_at=now, **body.model_dump())
    envelope = new_envelope(result, subject=body.registry_id, event_id=submission_id)
    async with _state(request).db.acquire() as conn, conn.transaction():
        outcome = await apply_lab_result(conn, lab_id=lab_id, envelope=envelope, via="http", now=now)
    if outcome["accepted"]:
        wake_planning(_state(request))  # the lab has a free slot again
        return outcome
    rejection = outcome.get("rejection")
    if rejection in (RejectionReason.UNKNOWN_REQUEST.value, RejectionReason.WRONG_LAB.value):
        # The same answer for both: a lab learns nothing about requests that are not its own.
        raise ProblemError(404, "Not found", f"no request {body.request_id} is assigned to lab {lab_id}")
    raise ProblemError(
        409 if rejection in _CONFLICTS else 422,
        "Result not accepted",
        "; ".join(outcome.get("reasons", [])),
        rejection=rejection,
        submission_id=outcome["submission_id"],
    )


_CONFLICTS = {RejectionReason.DUPLICATE.value, RejectionReason.SUPERSEDED.value, RejectionReason.ACCESS_REFUSED.value}


@router.get("/plans/{registry_id}", tags=["plans"], summary="Evaluation plans and requests of a model")
async def get_plans(
    registry_id: str, request: Request, caller: Annotated[Principal, Depends(require(*STAFF))]
) -> dict[str, Any]:
    db = _state(request).db
    plans = await store.plans_for_model(db, registry_id)
    if not plans:
        raise ProblemError(404, "Not found", f"no evaluation plan for {registry_id} yet")
    requests = [r.model_dump(mode="json") for r in await store.requests_for_model(db, registry_id)]
    waiting = await store.waiting_for_model(db, registry_id)
    return {"registry_id": registry_id, "plans": plans, "requests": requests, "waiting_for_a_lab": waiting}


class RegulatorRequestBody(BaseModel):
    """The regulator asks for evaluations of a model's current version, outside the usual triggers."""

    model_config = ConfigDict(extra="forbid")
    reference: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="The regulator's order number. One plan per reference and version: a retry returns it.",
    )
    extra_domains: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Domains to evaluate beyond those the model's tier requires (catalogue domain ids).",
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the record and the audit log.")


@router.post(
    "/plans/{registry_id}/regulator-requests",
    tags=["plans"],
    summary="The regulator requests evaluations of a model (officers)",
    status_code=201,
)
async def post_regulator_request(
    registry_id: str,
    body: RegulatorRequestBody,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN))],
) -> dict[str, Any]:
    """Plans the tier's required domains plus `extra_domains` for the model's latest verified version, as a
    `regulator_request` trigger: requests go to labs as for any plan, and an EvaluationsPlanned is published.
    201 with the plan; 200 with the first plan when this reference was already planned for that version.
    """
    state = _state(request)
    catalogue: EvaluationCatalogue = state.extras[CATALOGUE_KEY]
    try:
        extra = catalogue.ordered(body.extra_domains, field="extra_domains")
    except CatalogueError as error:
        raise ProblemError(422, "Invalid request", str(error)) from error
    trigger = PlanTrigger(kind=TriggerKind.REGULATOR_REQUEST, reference=body.reference, extra_domains=extra)
    response.headers["Location"] = f"/v1/plans/{registry_id}"
    async with state.db.acquire() as conn, conn.transaction():
        await store.list_labs(conn, for_update=True)  # serialises this with every other plan, retries included
        known = await store.get_model(conn, registry_id)
        if known is None:
            raise ProblemError(
                404, "Not found", f"{registry_id} has no verified version yet; evaluations are planned once it has"
            )
        earlier = await store.plan_by_trigger(conn, registry_id=registry_id, version=known["version"], trigger=trigger)
        if earlier is not None:
            response.status_code = 200
            return {**earlier["plan"], "requested_by": earlier["requested_by"]}
        plan = await plan_and_store(
            conn,
            model=known_model(known),
            trigger=trigger,
            profile=state.profile,
            catalogue=catalogue,
            cause=None,
            requested_by=caller.subject,
        )
        await audit.record(
            conn,
            actor=caller.subject,
            action="evaluations.regulator_request",
            subject=registry_id,
            detail={"reference": body.reference, "extra_domains": list(extra), "reason": body.reason},
        )
    return {**plan.model_dump(mode="json"), "requested_by": caller.subject}
