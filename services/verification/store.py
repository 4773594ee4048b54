"""All of verification's SQL. Outcomes and their events are written in one transaction."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from registry_contracts import ComputeVerified, Envelope, RegistrationSubmitted
from registry_contracts.topics import VERIFICATION_OUTCOMES
from services.plumbing.outbox import enqueue


async def save_declaration(conn: asyncpg.Connection, filing: RegistrationSubmitted, *, correlation_id: str) -> None:
    await conn.execute(
        "INSERT INTO declarations (registry_id, version, organisation_id, filing, correlation_id)"
        " VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (registry_id, version) DO NOTHING",
        filing.registry_id,
        filing.version,
        filing.developer.organisation_id,
        filing.model_dump_json(),
        correlation_id,
    )


async def save_outcome(conn: asyncpg.Connection, envelope: Envelope[ComputeVerified], details: dict[str, Any]) -> int:
    """Record a verification run with its full reasoning and publish it; returns the run number."""
    event = envelope.data
    run = await conn.fetchval(
        "SELECT coalesce(max(run), 0) + 1 FROM verifications WHERE registry_id = $1 AND version = $2",
        event.registry_id,
        event.version,
    )
    await conn.execute(
        "INSERT INTO verifications (registry_id, version, run, status, declared_tier, verified_tier, outcome,"
        " event_id, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)",
        event.registry_id,
        event.version,
        run,
        event.status.value,
        event.declared_tier.value,
        event.verified_tier.value,
        json.dumps({"event": event.model_dump(mode="json"), "details": details}),
        envelope.id,
        event.verified_at,
    )
    await enqueue(conn, topic=VERIFICATION_OUTCOMES.name, envelope=envelope)
    return int(run)


async def list_outcomes(pool: asyncpg.Pool, registry_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT version, run, status, declared_tier, verified_tier, outcome, verified_at FROM verifications"
        " WHERE registry_id = $1 ORDER BY version, run",
        registry_id,
    )
    return [{**dict(r), "outcome": json.loads(r["outcome"])} for r in rows]


async def count_outcomes(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM verifications WHERE registry_id = ANY($1)", registry_ids))
