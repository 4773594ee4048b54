"""The regulator's designation of a model, and the developer's rebuttal (DOMAIN "Scope and thresholds").

An officer designates a model (at least reportable, whatever its compute) or revokes a designation; verification
re-verifies the model's tier on the ModelDesignationChanged event, and evaluations plans what the tier needs. The
developer may rebut a designation in force; an officer then revokes it or lets it stand. Each decision and each
rebuttal is a filing (DES-..., DRB-...), listed with the model's other filings and in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response

from registry_contracts import new_envelope
from registry_contracts.events.intake import ModelDesignationChanged
from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from .. import store
from ..domain.filings import DesignationRequest, RebuttalRequest
from .common import accept_filing, not_found, service
from .filings import filing_record, new_filing_id, owned_model
from .registrations import IdempotencyKey

router = APIRouter()


@router.post(
    "/registrations/{registry_id}/designation",
    status_code=201,
    tags=["designation"],
    summary="Designate a model regardless of compute, or revoke its designation (officers)",
)
async def submit_designation(
    registry_id: str,
    body: DesignationRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ADMIN))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 with the decision (DES-...). `designated: true` on a designated model upholds the designation after the
    developer's rebuttal (a new decision, so the rebuttal no longer awaits one); otherwise 409 when the model is
    already in that state (nothing to decide)."""
    state = service(request)

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        model = await store.lock_model(conn, registry_id)
        if model is None or model["current_version"] < 1:
            raise not_found(f"model is registered as {registry_id}")
        upholding = bool(model["designated"] and body.designated) and bool(
            await store.rebuttals_of(conn, registry_id, model["designation_id"])
        )
        if model["designated"] == body.designated and not upholding:
            state_now = "designated" if body.designated else "not designated"
            raise ProblemError(
                409,
                "Nothing to decide",
                f"{registry_id} is already {state_now}"
                + (f" (decision {model['designation_id']})" if model["designation_id"] else ""),
                designated=model["designated"],
                designation_id=model["designation_id"],
            )
        designation_id = await new_filing_id(conn, "DES", now)
        event = ModelDesignationChanged(
            registry_id=registry_id,
            designation_id=designation_id,
            designated=body.designated,
            reason=body.reason,
            decided_by=caller.subject,
            decided_at=now,
            rule_profile_id=state.profile.id,
        )
        envelope = new_envelope(event, subject=registry_id)
        await store.insert_filing(
            conn,
            filing_id=designation_id,
            kind="designation",
            organisation_id=model["organisation_id"],  # the developer reads the decision and its grounds
            registry_id=registry_id,
            record=filing_record(event, kind="designation", filing_id=designation_id),
            restricted=None,
            late=False,
            event_id=envelope.id,
            filed_at=now,
        )
        await store.set_designation(conn, registry_id, designated=body.designated, designation_id=designation_id)
        await store.publish(conn, envelope)
        state.counters.add("designations_decided")
        return {
            "designation_id": designation_id,
            "registry_id": registry_id,
            "designated": body.designated,
            "upheld": upholding,
            "event_id": str(envelope.id),
        }

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{designation_id}",
    )


@router.post(
    "/registrations/{registry_id}/designation/rebuttals",
    status_code=201,
    tags=["designation"],
    summary="Rebut the designation of your model (the officers decide whether it stands)",
)
async def submit_designation_rebuttal(
    registry_id: str,
    body: RebuttalRequest,
    request: Request,
    response: Response,
    caller: Annotated[Principal, Depends(require(Role.REGISTRANT))],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 with the rebuttal (DRB-...); 409 when the model is not designated."""

    async def work(conn: asyncpg.Connection, now: datetime) -> dict[str, Any]:
        model = await owned_model(conn, caller, registry_id)
        if not model["designated"]:
            raise ProblemError(409, "Not designated", f"{registry_id} is not designated: there is nothing to rebut")
        rebuttal_id = await new_filing_id(conn, "DRB", now)
        record = {
            "kind": "designation_rebuttal",
            "filing_id": rebuttal_id,
            "registry_id": registry_id,
            "designation_id": model["designation_id"],
            "arguments": body.arguments,
            "filed_at": now.isoformat(),
        }
        await store.insert_filing(
            conn,
            filing_id=rebuttal_id,
            kind="designation_rebuttal",
            organisation_id=model["organisation_id"],
            registry_id=registry_id,
            record=record,
            restricted=None,
            late=False,
            event_id=None,
            filed_at=now,
        )
        return {"rebuttal_id": rebuttal_id, "registry_id": registry_id, "designation_id": model["designation_id"]}

    return await accept_filing(
        request,
        response,
        body=body,
        caller=caller,
        idempotency_key=idempotency_key,
        work=work,
        location="/v1/filings/{rebuttal_id}",
    )


@router.get("/designations", tags=["designation"], summary="Designated models and the rebuttals awaiting a decision")
async def list_designations(
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
    awaiting_decision: bool = Query(
        default=False, description="Only models whose developer rebutted the decision in force."
    ),
) -> list[dict[str, Any]]:
    """Every model the regulator has decided about, with the decision in force and the rebuttals filed against it
    (`awaiting_decision`: at least one). An officer then revokes the designation or upholds it (a new decision)."""
    rows = await store.designations(service(request).db, awaiting_only=awaiting_decision)
    return [
        {
            "registry_id": r["registry_id"],
            "organisation_id": r["organisation_id"],
            "model_name": r["model_name"],
            "designated": r["designated"],
            "designation_id": r["designation_id"],
            "rebuttals": [
                {"rebuttal_id": rebuttal_id, "filed_at": filed_at}
                for rebuttal_id, filed_at in zip(r["rebuttal_ids"], r["rebuttal_times"], strict=True)
            ],
            "awaiting_decision": bool(r["rebuttal_ids"]),
        }
        for r in rows
    ]
