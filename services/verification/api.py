"""Verification's HTTP API: outcomes with every estimate and reason, for officers and analysts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from . import store

router = APIRouter(prefix="/v1")


@router.get("/verifications/{registry_id}", tags=["verification"], summary="Every verification of a model")
async def get_verifications(
    registry_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
) -> dict[str, Any]:
    outcomes = await store.list_outcomes(request.app.state.service.db, registry_id)
    if not outcomes:
        raise ProblemError(404, "Not found", f"no verification of {registry_id} yet")
    return {"registry_id": registry_id, "verifications": outcomes}
