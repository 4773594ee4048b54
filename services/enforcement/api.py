"""Enforcement's HTTP API: cases, their timelines, and the decisions taken on each finding."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.plumbing.auth import Principal, Role, require
from services.plumbing.http import ProblemError

from . import store

router = APIRouter(prefix="/v1")


@router.get("/cases", tags=["cases"], summary="The case queue, newest first")
async def get_cases(
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
    registry_id: str | None = None,
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    db = request.app.state.service.db
    if registry_id is not None:
        return await store.cases_for_model(db, registry_id)
    return await store.list_cases(db, status=status, limit=limit)


@router.get("/cases/{case_id}/timeline", tags=["cases"], summary="Everything that happened to a case")
async def get_timeline(
    case_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
) -> list[dict[str, Any]]:
    entries = await store.timeline(request.app.state.service.db, case_id)
    if not entries:
        raise ProblemError(404, "Not found", f"no case {case_id}")
    return entries


@router.get("/decisions/{registry_id}", tags=["cases"], summary="What enforcement decided on each finding")
async def get_decisions(
    registry_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require(Role.OFFICER, Role.ANALYST, Role.ADMIN))],
) -> list[dict[str, Any]]:
    return await store.decisions_for_models(request.app.state.service.db, [registry_id])
