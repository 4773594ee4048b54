"""All of intake's SQL. Every write that causes an event writes its outbox row in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from registry_contracts import Envelope
from registry_contracts.topics import INTAKE_FILINGS
from services.plumbing.db import hold_lock
from services.plumbing.outbox import enqueue


class DuplicateModelError(Exception):
    def __init__(self, registry_id: str) -> None:
        super().__init__(registry_id)
        self.registry_id = registry_id


# --- idempotency -------------------------------------------------------------------------------------------


async def lock_idempotency_key(conn: asyncpg.Connection, scope: str, key: str) -> None:
    """Serialise concurrent retries of one key until this transaction ends."""
    await hold_lock(conn, f"{scope}\n{key}")


async def find_idempotent_response(conn: asyncpg.Connection, scope: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE organisation_id = $1 AND key = $2",
        scope,
        key,
    )


async def save_idempotent_response(
    conn: asyncpg.Connection, scope: str, key: str, request_hash: str, status: int, body: Any
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (organisation_id, key, request_hash, status_code, response)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        scope,
        key,
        request_hash,
        status,
        json.dumps(body),
    )


# --- ids ---------------------------------------------------------------------------------------------------


async def next_registry_sequence(conn: asyncpg.Connection, year: int) -> int:
    """The next number of the year's registry ids (a sequence: no lock held until commit; see migration 003)."""
    return int(await conn.fetchval("SELECT next_number('registry', $1)", year))


async def next_filing_sequence(conn: asyncpg.Connection, prefix: str, year: int) -> int:
    return int(await conn.fetchval("SELECT next_number($1, $2)", prefix, year))


# --- models and versions -----------------------------------------------------------------------------------


async def find_model_id(conn: asyncpg.Connection, organisation_id: str, model_name: str) -> str | None:
    value = await conn.fetchval(
        "SELECT registry_id FROM models WHERE organisation_id = $1 AND model_name = $2",
        organisation_id,
        model_name,
    )
    return str(value) if value is not None else None


async def registry_id_taken(conn: asyncpg.Connection, registry_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM models WHERE registry_id = $1", registry_id))


async def insert_model(
    conn: asyncpg.Connection,
    *,
    registry_id: str,
    organisation_id: str,
    model_name: str,
    developer: dict[str, Any],
    base_registry_id: str | None,
    cumulative_training_flop: float,
    tier: str,
    submitted_at: datetime,
) -> None:
    """A new model row (version 1 follows in the same transaction)."""
    inserted = await conn.fetchval(
        "INSERT INTO models (registry_id, organisation_id, model_name, current_version, developer,"
        " developer_name_key, model_name_key, base_registry_id, cumulative_training_flop, tier, standing_since)"
        " VALUES ($1, $2, $3, 1, $4::jsonb, lower($5), lower($3), $6, $7, $8, $9)"
        " ON CONFLICT (organisation_id, model_name) DO NOTHING RETURNING true",
        registry_id,
        organisation_id,
        model_name,
        json.dumps(developer),
        developer["legal_name"],
        base_registry_id,
        cumulative_training_flop,
        tier,
        submitted_at,
    )
    if not inserted:
        raise DuplicateModelError(await find_model_id(conn, organisation_id, model_name) or "")


async def insert_version(
    conn: asyncpg.Connection,
    *,
    registry_id: str,
    version: int,
    kind: str,
    record: dict[str, Any],
    restricted: bytes | None,
    event_id: Any,
    late: bool,
    submitted_at: datetime,
    base_version: int | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO model_versions (registry_id, version, filing, event_id, late, submitted_at, kind, base_version,"
        " restricted) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)",
        registry_id,
        version,
        json.dumps(record, default=str),
        event_id,
        late,
        submitted_at,
        kind,
        base_version,
        restricted,
    )


async def advance_model(
    conn: asyncpg.Connection, registry_id: str, *, version: int, cumulative_training_flop: float, tier: str
) -> None:
    await conn.execute(
        "UPDATE models SET current_version = $2, cumulative_training_flop = $3, tier = $4 WHERE registry_id = $1",
        registry_id,
        version,
        cumulative_training_flop,
        tier,
    )


async def lock_model(conn: asyncpg.Connection, registry_id: str) -> asyncpg.Record | None:
    """The model row, locked until the transaction ends (amendments and status changes queue behind it)."""
    return await conn.fetchrow("SELECT * FROM models WHERE registry_id = $1 FOR UPDATE", registry_id)


async def set_status(conn: asyncpg.Connection, registry_id: str, status: str) -> None:
    await conn.execute("UPDATE models SET status = $2 WHERE registry_id = $1", registry_id, status)


async def set_designation(conn: asyncpg.Connection, registry_id: str, *, designated: bool, designation_id: str) -> None:
    await conn.execute(
        "UPDATE models SET designated = $2, designation_id = $3 WHERE registry_id = $1",
        registry_id,
        designated,
        designation_id,
    )


async def rebuttals_of(conn: asyncpg.Connection, registry_id: str, designation_id: str | None) -> list[str]:
    """The rebuttals filed against one designation decision, oldest first."""
    rows = await conn.fetch(
        "SELECT filing_id FROM filings WHERE registry_id = $1 AND kind = 'designation_rebuttal'"
        " AND record ->> 'designation_id' = $2 ORDER BY filed_at",
        registry_id,
        designation_id,
    )
    return [r["filing_id"] for r in rows]


async def designations(pool: asyncpg.Pool, *, awaiting_only: bool) -> list[asyncpg.Record]:
    """Models with a designation decision, each with the rebuttals filed against the decision in force."""
    return list(
        await pool.fetch(
            "SELECT m.registry_id, m.organisation_id, m.model_name, m.designated, m.designation_id,"
            " coalesce(array_agg(f.filing_id ORDER BY f.filed_at) FILTER (WHERE f.filing_id IS NOT NULL), '{}')"
            " AS rebuttal_ids,"
            " coalesce(array_agg(f.filed_at ORDER BY f.filed_at) FILTER (WHERE f.filing_id IS NOT NULL), '{}')"
            " AS rebuttal_times"
            " FROM models m LEFT JOIN filings f ON f.registry_id = m.registry_id AND f.kind = 'designation_rebuttal'"
            " AND f.record ->> 'designation_id' = m.designation_id"
            " WHERE m.designation_id IS NOT NULL GROUP BY m.registry_id"
            " HAVING NOT $1 OR count(f.filing_id) > 0 ORDER BY m.registry_id",
            awaiting_only,
        )
    )


async def first_submitted_at(conn: asyncpg.Connection, registry_id: str) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT submitted_at FROM model_versions WHERE registry_id = $1 AND version = 1", registry_id
    )
    return value


async def get_version(
    db: asyncpg.Pool | asyncpg.Connection, registry_id: str, version: int | None
) -> asyncpg.Record | None:
    """A model joined with one of its versions (None: the current one)."""
    return await db.fetchrow(
        "SELECT m.registry_id, m.organisation_id, m.model_name, m.current_version, m.standing, m.status, m.tier,"
        " m.standing_reasons, m.cumulative_training_flop, m.designated, m.designation_id, v.version, v.kind,"
        " v.filing, v.late, v.submitted_at, v.restricted FROM models m"
        " JOIN model_versions v ON v.registry_id = m.registry_id AND v.version = coalesce($2, m.current_version)"
        " WHERE m.registry_id = $1",
        registry_id,
        version,
    )


async def list_models(pool: asyncpg.Pool, organisation_id: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT registry_id, organisation_id, model_name, current_version, standing, status, tier FROM models"
        " WHERE ($1::text IS NULL OR organisation_id = $1) AND current_version >= 1"
        " ORDER BY registry_id LIMIT $2 OFFSET $3",
        organisation_id,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


# --- other filings -----------------------------------------------------------------------------------------


async def insert_filing(
    conn: asyncpg.Connection,
    *,
    filing_id: str,
    kind: str,
    organisation_id: str | None,
    registry_id: str | None,
    record: dict[str, Any],
    restricted: bytes | None,
    late: bool,
    event_id: Any,
    filed_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO filings (filing_id, kind, organisation_id, registry_id, record, restricted, late, event_id,"
        " filed_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)",
        filing_id,
        kind,
        organisation_id,
        registry_id,
        json.dumps(record, default=str),
        restricted,
        late,
        event_id,
        filed_at,
    )


async def get_filing(db: asyncpg.Pool | asyncpg.Connection, filing_id: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM filings WHERE filing_id = $1", filing_id)


async def list_filings(pool: asyncpg.Pool, registry_id: str, kind: str | None) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM filings WHERE registry_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY filed_at",
            registry_id,
            kind,
        )
    )


# --- events ------------------------------------------------------------------------------------------------


async def publish(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    """Queue an event on intake.filings.v1 in the caller's transaction."""
    await enqueue(conn, topic=INTAKE_FILINGS.name, envelope=envelope)


# --- standing ----------------------------------------------------------------------------------------------

# row_version (the row's xmin) lets a lazily signed answer be saved only if nothing changed since it was read.
STANDING_COLUMNS = (
    "registry_id, organisation_id, model_name, developer, standing, standing_reasons, status, tier,"
    " standing_since, signed_answer, signed_key_id, xmin::text AS row_version"
)


async def standing_row(db: asyncpg.Pool | asyncpg.Connection, registry_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"SELECT {STANDING_COLUMNS} FROM models WHERE registry_id = $1 AND current_version >= 1", registry_id
    )


async def standing_rows_by_name(
    db: asyncpg.Pool | asyncpg.Connection, developer: str, model_name: str
) -> list[asyncpg.Record]:
    """Models of that name whose developer's legal name or organisation id matches (case-insensitive)."""
    return list(
        await db.fetch(
            f"SELECT {STANDING_COLUMNS} FROM models WHERE model_name_key = lower($2) AND current_version >= 1"
            " AND (developer_name_key = lower($1) OR lower(organisation_id) = lower($1)) ORDER BY registry_id",
            developer,
            model_name,
        )
    )


async def save_signed_answer(
    db: asyncpg.Connection | asyncpg.Pool, registry_id: str, answer: str, key: str, *, row_version: str
) -> bool:
    """Keep a signed answer unless the row changed since it was read (then the next lookup signs afresh)."""
    saved = await db.fetchval(
        "UPDATE models SET signed_answer = $2, signed_key_id = $3 WHERE registry_id = $1 AND xmin::text = $4"
        " RETURNING true",
        registry_id,
        answer,
        key,
        row_version,
    )
    return bool(saved)


async def apply_standing(
    conn: asyncpg.Connection, registry_id: str, *, standing: str, reasons: list[str], since: datetime
) -> bool:
    """Set a model's standing unless a newer change was already applied; returns whether it changed."""
    changed = await conn.fetchval(
        "UPDATE models SET standing = $2, standing_reasons = $3::jsonb, standing_since = $4"
        " WHERE registry_id = $1 AND (standing_since IS NULL OR standing_since <= $4) RETURNING true",
        registry_id,
        standing,
        json.dumps(reasons),
        since,
    )
    return bool(changed)


async def record_case_opened(
    conn: asyncpg.Connection, *, case_id: str, registry_id: str, rule: str, opened_at: Any
) -> bool:
    """A case puts a model in good standing under review; returns whether the standing changed."""
    await conn.execute(
        "INSERT INTO standing_cases (case_id, registry_id, rule, opened_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (case_id) DO NOTHING",
        case_id,
        registry_id,
        rule,
        opened_at,
    )
    changed = await conn.fetchval(
        "UPDATE models SET standing = 'under_review', standing_reasons = $2::jsonb,"
        " standing_since = greatest(standing_since, $3) WHERE registry_id = $1"
        " AND standing = 'registered_good_standing' RETURNING true",
        registry_id,
        json.dumps([f"enforcement case {case_id} opened ({rule})"]),
        opened_at,
    )
    return bool(changed)


async def count_versions(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM model_versions WHERE registry_id = ANY($1)", registry_ids))
