"""Reading records and filings: registrants see their own organisation's, staff see all, each redacted once."""

from __future__ import annotations

import json
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request

from services.plumbing.auth import Principal, Role, require
from services.plumbing.service import ServiceState

from .. import store
from .common import audit_read, can_read, not_found, present, service

router = APIRouter()
Reader = Annotated[Principal, Depends(require(Role.REGISTRANT, Role.OFFICER, Role.ANALYST, Role.ADMIN))]
FilingReader = Annotated[
    Principal, Depends(require(Role.REGISTRANT, Role.COMPUTE_PROVIDER, Role.OFFICER, Role.ANALYST, Role.ADMIN))
]


def _model_view(state: ServiceState, caller: Principal, row: asyncpg.Record) -> dict[str, Any]:
    filing = present(state, caller, json.loads(row["filing"]), row["restricted"], bound_to=row["registry_id"])
    return {
        "registry_id": row["registry_id"],
        "organisation_id": row["organisation_id"],
        "model_name": row["model_name"],
        "current_version": row["current_version"],
        "version": row["version"],
        "kind": row["kind"],
        "standing": row["standing"],
        "status": row["status"],
        "tier": row["tier"],
        "designated": row["designated"],  # by the regulator; the decision: GET /v1/filings/{designation_id}
        "designation_id": row["designation_id"],
        "late": row["late"],
        "submitted_at": row["submitted_at"].isoformat(),
        "filing": filing,
    }


async def _readable_version(
    request: Request, caller: Principal, registry_id: str, version: int | None
) -> dict[str, Any]:
    state = service(request)
    row = await store.get_version(state.db, registry_id, version)
    if row is None or not can_read(caller, row["organisation_id"]):
        raise not_found(f"model is registered as {registry_id}" + (f" with a version {version}" if version else ""))
    view = _model_view(state, caller, row)
    await audit_read(state, caller, f"{registry_id}/v{row['version']}")
    return view


@router.get("/registrations", tags=["records"], summary="Models you may read (your organisation's, or all for staff)")
async def list_registrations(
    request: Request,
    caller: Reader,
    organisation_id: Annotated[str | None, Query(max_length=200, description="Staff only: one organisation.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    scope = organisation_id if caller.is_agency_staff else caller.organisation_id
    if not caller.is_agency_staff and scope is None:
        return []
    return await store.list_models(service(request).db, scope, limit, offset)


@router.get("/registrations/{registry_id}", tags=["records"], summary="A model's current record")
async def get_registration(registry_id: str, request: Request, caller: Reader) -> dict[str, Any]:
    return await _readable_version(request, caller, registry_id, None)


@router.get("/registrations/{registry_id}/versions/{version}", tags=["records"], summary="One immutable version")
async def get_registration_version(
    registry_id: str, version: Annotated[int, Path(ge=1, le=1_000_000)], request: Request, caller: Reader
) -> dict[str, Any]:
    return await _readable_version(request, caller, registry_id, version)


def _filing_view(state: ServiceState, caller: Principal, row: asyncpg.Record) -> dict[str, Any]:
    record = json.loads(row["record"]) | {"filing_id": row["filing_id"], "kind": row["kind"], "late": row["late"]}
    return present(state, caller, record, row["restricted"], bound_to=row["filing_id"])


@router.get("/registrations/{registry_id}/filings", tags=["records"], summary="A model's other filings")
async def list_model_filings(
    registry_id: str,
    request: Request,
    caller: Reader,
    kind: Annotated[str | None, Query(max_length=40, description="e.g. incident_report, status_change")] = None,
) -> list[dict[str, Any]]:
    state = service(request)
    model = await store.standing_row(state.db, registry_id)
    if model is None or not can_read(caller, model["organisation_id"]):
        raise not_found(f"model is registered as {registry_id}")
    rows = await store.list_filings(state.db, registry_id, kind)
    views = [
        _filing_view(state, caller, r) for r in rows if caller.is_agency_staff or r["kind"] != "compute_attestation"
    ]
    await audit_read(state, caller, f"{registry_id}/filings")
    return views


@router.get("/filings/{filing_id}", tags=["records"], summary="One filing (notice, status change, incident, ...)")
async def get_filing(filing_id: str, request: Request, caller: FilingReader) -> dict[str, Any]:
    state = service(request)
    row = await store.get_filing(state.db, filing_id)
    if row is None or not can_read(caller, row["organisation_id"]):
        raise not_found(f"filing {filing_id}")
    view = _filing_view(state, caller, row)
    await audit_read(state, caller, filing_id)
    return view
