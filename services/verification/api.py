"""Verification's HTTP API: outcomes with every estimate and reason, attestations, and the analyst's chart data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from . import store

router = APIRouter(prefix="/v1")
STAFF = (Role.OFFICER, Role.ANALYST, Role.ADMIN)


def _run_view(row: dict[str, Any]) -> dict[str, Any]:
    """One verification run as an officer reads it: the published event's figures, then the reasoning."""
    event = row["outcome"]["event"]
    details = row["outcome"].get("details", {})
    return {
        "version": row["version"],
        "run": row["run"],
        "trigger": row["trigger"],
        "status": row["status"],
        "explanation": event["explanation"],
        "declared_training_flop": event["declared_training_flop"],
        "cumulative_declared_flop": details.get("cumulative_declared_flop", event["declared_training_flop"]),
        "estimates": event["estimates"],
        "tolerance_factor": event["tolerance_factor"],
        "threshold_flop": event["threshold_flop"],
        "declared_tier": row["declared_tier"],
        "verified_tier": row["verified_tier"],
        "verified_at": row["verified_at"],
        "rule_profile_id": event["rule_profile_id"],
        "reasons": details.get("reasons", []),
        "notes": details.get("notes", []),
        "attestation_matches": details.get("attestation_matches", []),
        "outcome": row["outcome"],
    }


@router.get("/verifications/{registry_id}", tags=["verification"], summary="Every verification run of a model")
async def get_verifications(
    registry_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(*STAFF))],
) -> dict[str, Any]:
    """Every run of every version, oldest first: estimates, tolerance, threshold at stake, the sentence."""
    outcomes = await store.list_outcomes(request.app.state.service.db, registry_id)
    if not outcomes:
        raise ProblemError(404, "Not found", f"no verification of {registry_id} yet")
    return {"registry_id": registry_id, "verifications": [_run_view(r) for r in outcomes]}


@router.get("/attestations", tags=["verification"], summary="An organisation's compute attestations")
async def get_attestations(
    request: Request,
    caller: Annotated[Principal, Depends(require(*STAFF))],
    organisation_id: Annotated[str, Query(min_length=1, max_length=200, description="The customer organisation.")],
) -> dict[str, Any]:
    """Every attestation providers filed for the organisation's runs, with the verification runs that used it."""
    attestations = await store.list_attestations(request.app.state.service.db, organisation_id)
    return {"organisation_id": organisation_id, "attestations": attestations}


@router.get("/outcomes", tags=["statistics"], summary="Latest outcome of each model version (declared vs estimated)")
async def get_outcomes(
    request: Request,
    caller: Annotated[Principal, Depends(require(*STAFF))],
    limit: Annotated[int, Query(ge=1, le=store.MAX_OUTCOMES_LISTED)] = 100,
) -> dict[str, Any]:
    """The latest run of each model version, newest first: declared compute, the largest estimate, tiers, status."""
    rows = await store.latest_outcomes(request.app.state.service.db, limit=limit)
    return {"outcomes": rows, "count": len(rows)}
