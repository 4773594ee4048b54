"""Public lookups, no login: a model's signed standing, its public record, and the key that verifies answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from services.plumbing.http import ProblemError

from .. import store
from ..domain.record import Audience, redact
from .common import service, signer_of
from .filings import record_usage

router = APIRouter(prefix="/public", tags=["public"])
SIGNED_JSON = "application/json"
# Answers change only when standing does; caches may keep them briefly, and must revalidate after.
CACHE_CONTROL = "public, max-age=30, must-revalidate"
SIGNED_ANSWER_DOC = {
    "description": "The signed answer: `answer` (what the registry says) and `signature` (Ed25519 over the "
    "canonical JSON of `answer`), verifiable offline with the published key.",
}


def _answer(text: str) -> Response:
    return Response(text, media_type=SIGNED_JSON, headers={"Cache-Control": CACHE_CONTROL})


async def _unknown(request: Request, *, model_name: str, developer: str | None, registry_id: str | None) -> Response:
    """A lookup of a model the registry does not know: a signed 'unknown', and a usage report for enforcement."""
    state = service(request)
    now = datetime.now(UTC)
    async with state.db.acquire() as conn, conn.transaction():
        await record_usage(
            state,
            conn,
            now,
            source="unknown_lookup",
            model_name=model_name,
            developer_name=developer,
            registry_id=None,
            seen_at=now,
            reporter=None,
            reporter_organisation=None,
            context=f"public lookup of registry id {registry_id}" if registry_id else "public lookup by name",
        )
    signed = signer_of(state).sign_unknown(model_name=model_name, developer=developer, now=now)
    return Response(signed, media_type=SIGNED_JSON, headers={"Cache-Control": "no-store"})


@router.get(
    "/standing/{registry_id}",
    summary="May I use this model? Its standing, signed",
    responses={200: SIGNED_ANSWER_DOC},
)
async def standing_by_id(registry_id: str, request: Request) -> Response:
    state = service(request)
    row = await store.standing_row(state.db, registry_id)
    if row is None:
        return await _unknown(request, model_name=registry_id, developer=None, registry_id=registry_id)
    return _answer(await signer_of(state).current(state.db, row))


@router.get(
    "/standing",
    summary="May I use this model? Look it up by developer and model name",
    responses={200: SIGNED_ANSWER_DOC},
)
async def standing_by_name(
    request: Request,
    developer: Annotated[str, Query(min_length=1, max_length=200, description="Legal name or organisation id.")],
    model: Annotated[str, Query(min_length=1, max_length=200, description="Model name as registered.")],
) -> Response:
    state = service(request)
    rows = await store.standing_rows_by_name(state.db, developer, model)
    if not rows:
        return await _unknown(request, model_name=model, developer=developer, registry_id=None)
    return _answer(await signer_of(state).current(state.db, rows[0]))


@router.get("/registrations/{registry_id}", summary="A model's public record")
async def public_record(registry_id: str, request: Request) -> dict[str, Any]:
    state = service(request)
    row = await store.get_version(state.db, registry_id, None)
    if row is None:
        raise ProblemError(404, "Not found", f"no model is registered as {registry_id}")
    record = json.loads(row["filing"]) | {"standing": row["standing"], "status": row["status"], "tier": row["tier"]}
    return redact(record, Audience.PUBLIC)


@router.get("/signing-key", summary="The Ed25519 public key that verifies standing answers")
async def signing_key(request: Request) -> dict[str, str]:
    signer = signer_of(service(request))
    return {"algorithm": "Ed25519", "key_id": signer.key_id, "public_key_pem": signer.public_pem}


@router.get("/signing-key.pem", summary="The same key as a PEM file", response_class=PlainTextResponse)
async def signing_key_pem(request: Request) -> PlainTextResponse:
    return PlainTextResponse(signer_of(service(request)).public_pem, media_type="application/x-pem-file")
