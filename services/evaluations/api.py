"""Evaluations' HTTP API: labs (admin) and evaluation plans."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from . import store
from .domain import Lab

router = APIRouter(prefix="/v1")


@router.put("/labs/{lab_id}", tags=["labs"], summary="Accredit or update an evaluation lab")
async def put_lab(
    lab_id: str, lab: Lab, request: Request, caller: Annotated[Principal, Depends(require(Role.ADMIN))]
) -> dict[str, Any]:
    if lab.lab_id != lab_id:
        raise ProblemError(
            422, "Invalid request", f"lab_id in the body ({lab.lab_id}) differs from the path ({lab_id})"
        )
    await store.upsert_lab(request.app.state.service.db, lab)
    return lab.model_dump(mode="json")


@router.get("/labs", tags=["labs"], summary="Accredited evaluation labs")
async def get_labs(
    request: Request, caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))]
) -> list[dict[str, Any]]:
    return [lab.model_dump(mode="json") for lab in await store.list_labs(request.app.state.service.db)]


@router.get("/plans/{registry_id}", tags=["plans"], summary="Evaluation plans and requests of a model")
async def get_plans(
    registry_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
) -> dict[str, Any]:
    db = request.app.state.service.db
    plans = await store.plans_for_model(db, registry_id)
    if not plans:
        raise ProblemError(404, "Not found", f"no evaluation plan for {registry_id} yet")
    requests = [r.model_dump(mode="json") for r in await store.requests_for_model(db, registry_id)]
    return {"registry_id": registry_id, "plans": plans, "requests": requests}
