"""All of evaluations' SQL. Plans, their requests and the EvaluationsPlanned event commit together."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from registry_contracts import Envelope, EvaluationsPlanned
from registry_contracts.topics import EVALUATIONS_PLANS
from services.plumbing.outbox import enqueue

from .domain import EvaluationPlan, EvaluationRequest, Lab, RequestStatus


async def upsert_lab(conn: asyncpg.Connection | asyncpg.Pool, lab: Lab) -> None:
    await conn.execute(
        "INSERT INTO labs (lab_id, lab) VALUES ($1, $2::jsonb)"
        " ON CONFLICT (lab_id) DO UPDATE SET lab = excluded.lab, updated_at = now()",
        lab.lab_id,
        lab.model_dump_json(),
    )


async def list_labs(conn: asyncpg.Connection | asyncpg.Pool, *, for_update: bool = False) -> list[Lab]:
    # Planning locks every lab row: two plans must not both take a lab's last free slot.
    lock = " FOR UPDATE" if for_update else ""
    rows = await conn.fetch(f"SELECT lab FROM labs ORDER BY lab_id{lock}")
    return [Lab.model_validate_json(r["lab"]) for r in rows]


async def open_load(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("SELECT lab_id, count(*) AS n FROM evaluation_requests WHERE status = 'open' GROUP BY 1")
    return {r["lab_id"]: int(r["n"]) for r in rows}


async def requests_for_model(conn: asyncpg.Connection | asyncpg.Pool, registry_id: str) -> list[EvaluationRequest]:
    rows = await conn.fetch(
        "SELECT request FROM evaluation_requests WHERE registry_id = $1 ORDER BY created_at, request_id", registry_id
    )
    return [EvaluationRequest.model_validate_json(r["request"]) for r in rows]


async def save_plan(conn: asyncpg.Connection, plan: EvaluationPlan, envelope: Envelope[EvaluationsPlanned]) -> None:
    for request in plan.requests:
        await conn.execute(
            "INSERT INTO evaluation_requests (request_id, registry_id, version, domain, lab_id, status, deadline,"
            " request) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (request_id) DO NOTHING",
            request.request_id,
            request.registry_id,
            request.model_version,
            request.domain,
            request.lab_id,
            request.status.value,
            request.deadline,
            request.model_dump_json(),
        )
    for superseded in plan.supersede:
        await conn.execute(
            "UPDATE evaluation_requests SET status = $2,"
            " request = jsonb_set(request, '{status}', to_jsonb($2::text)) WHERE request_id = $1",
            superseded.request_id,
            RequestStatus.SUPERSEDED.value,
        )
    await conn.execute(
        "INSERT INTO plans (event_id, registry_id, version, tier, plan, planned_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
        envelope.id,
        plan.registry_id,
        plan.model_version,
        plan.tier.value,
        plan.model_dump_json(),
        plan.planned_at,
    )
    await enqueue(conn, topic=EVALUATIONS_PLANS.name, envelope=envelope)


async def plans_for_model(pool: asyncpg.Pool, registry_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT version, tier, plan, planned_at FROM plans WHERE registry_id = $1 ORDER BY planned_at", registry_id
    )
    return [{**dict(r), "plan": json.loads(r["plan"])} for r in rows]


async def count_plans(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM plans WHERE registry_id = ANY($1)", registry_ids))
