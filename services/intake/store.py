"""All of intake's SQL. Every write that causes an event writes its outbox row in the same transaction."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from registry_contracts import Envelope, RegistrationSubmitted
from registry_contracts.topics import INTAKE_FILINGS
from services.plumbing.outbox import enqueue


class DuplicateModelError(Exception):
    def __init__(self, registry_id: str) -> None:
        super().__init__(registry_id)
        self.registry_id = registry_id


async def lock_idempotency_key(conn: asyncpg.Connection, organisation_id: str, key: str) -> None:
    """Serialise concurrent retries of one key until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{organisation_id}\n{key}")


async def find_idempotent_response(conn: asyncpg.Connection, organisation_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE organisation_id = $1 AND key = $2",
        organisation_id,
        key,
    )


async def save_idempotent_response(
    conn: asyncpg.Connection, organisation_id: str, key: str, request_hash: str, status: int, body: Any
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (organisation_id, key, request_hash, status_code, response)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        organisation_id,
        key,
        request_hash,
        status,
        json.dumps(body),
    )


async def next_registry_sequence(conn: asyncpg.Connection, year: int) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO registry_id_sequences (year, last_value) VALUES ($1, 1)"
            " ON CONFLICT (year) DO UPDATE SET last_value = registry_id_sequences.last_value + 1"
            " RETURNING last_value",
            year,
        )
    )


async def find_model_id(conn: asyncpg.Connection, organisation_id: str, model_name: str) -> str | None:
    value = await conn.fetchval(
        "SELECT registry_id FROM models WHERE organisation_id = $1 AND model_name = $2",
        organisation_id,
        model_name,
    )
    return str(value) if value is not None else None


async def insert_registration(conn: asyncpg.Connection, envelope: Envelope[RegistrationSubmitted]) -> None:
    """Record a new model, its first version, and the RegistrationSubmitted event, atomically."""
    event = envelope.data
    inserted = await conn.fetchval(
        "INSERT INTO models (registry_id, organisation_id, model_name, current_version)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (organisation_id, model_name) DO NOTHING RETURNING true",
        event.registry_id,
        event.developer.organisation_id,
        event.model_name,
        event.version,
    )
    if not inserted:
        existing = await find_model_id(conn, event.developer.organisation_id, event.model_name)
        raise DuplicateModelError(existing or "")
    await conn.execute(
        "INSERT INTO model_versions (registry_id, version, filing, event_id, late, submitted_at)"
        " VALUES ($1, $2, $3::jsonb, $4, $5, $6)",
        event.registry_id,
        event.version,
        event.model_dump_json(),
        envelope.id,
        event.late,
        event.submitted_at,
    )
    await enqueue(conn, topic=INTAKE_FILINGS.name, envelope=envelope)


async def get_model(pool: asyncpg.Pool, registry_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT m.registry_id, m.organisation_id, m.model_name, m.current_version, m.standing, v.filing, v.late,"
        " v.submitted_at FROM models m JOIN model_versions v"
        " ON v.registry_id = m.registry_id AND v.version = m.current_version WHERE m.registry_id = $1",
        registry_id,
    )
    if row is None:
        return None
    result = dict(row)
    result["filing"] = json.loads(row["filing"])
    return result


async def record_case_opened(
    conn: asyncpg.Connection, *, case_id: str, registry_id: str, rule: str, opened_at: Any
) -> None:
    """A case against a model puts it under review (suspension and reinstatement come with enforcement actions)."""
    await conn.execute(
        "INSERT INTO standing_cases (case_id, registry_id, rule, opened_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (case_id) DO NOTHING",
        case_id,
        registry_id,
        rule,
        opened_at,
    )
    await conn.execute(
        "UPDATE models SET standing = 'under_review' WHERE registry_id = $1 AND standing = 'registered_good_standing'",
        registry_id,
    )


async def count_versions(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM model_versions WHERE registry_id = ANY($1)", registry_ids))
