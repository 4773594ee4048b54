"""All of enforcement's SQL: decisions, cases with optimistic concurrency, and their timelines."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from registry_contracts import CaseOpened, Envelope
from registry_contracts.topics import ENFORCEMENT_CASES
from services.plumbing.outbox import enqueue

from .domain import Case, CaseChange


class StaleCaseError(Exception):
    """Another officer changed the case since it was read."""


async def next_case_id(conn: asyncpg.Connection, year: int) -> str:
    number = await conn.fetchval("SELECT nextval('case_numbers')")
    return f"ENF-{year}-{number:06d}"


async def open_case_for(conn: asyncpg.Connection, model_key: str, rule: str) -> Case | None:
    """The open case for (model, rule), locked for this transaction."""
    row = await conn.fetchrow(
        "SELECT \"case\" FROM cases WHERE model_key = $1 AND rule = $2 AND status NOT IN ('closed', 'appealed')"
        " FOR UPDATE",
        model_key,
        rule,
    )
    return Case.model_validate_json(row["case"]) if row else None


async def save_change(conn: asyncpg.Connection, change: CaseChange, *, expected_row_version: int | None = None) -> int:
    """Insert or update the case and append its timeline; returns the new row version.

    With `expected_row_version`, the update only applies if nobody changed the case since it was read.
    """
    case = change.case
    if change.opened:
        await conn.execute(
            "INSERT INTO cases (case_id, model_key, registry_id, rule, status, assigned_officer, response_due_at,"
            ' opened_at, updated_at, "case") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)',
            case.id,
            case.model_key,
            case.registry_id,
            str(case.rule),
            str(case.status),
            case.assigned_officer,
            change.response_due_at or case.response_due_at,
            case.opened_at,
            case.updated_at,
            case.model_dump_json(),
        )
        row_version = 1
    else:
        # Officers' edits name the row version they read; system updates (new breaches) hold the row lock.
        row_version_value = await conn.fetchval(
            "UPDATE cases SET status = $2, assigned_officer = $3, response_due_at = $4, updated_at = $5,"
            ' "case" = $6::jsonb, row_version = row_version + 1'
            " WHERE case_id = $1 AND ($7::int IS NULL OR row_version = $7) RETURNING row_version",
            case.id,
            str(case.status),
            case.assigned_officer,
            change.response_due_at or case.response_due_at,
            case.updated_at,
            case.model_dump_json(),
            expected_row_version,
        )
        if row_version_value is None:
            raise StaleCaseError(f"case {case.id} was changed by someone else; reload it and try again")
        row_version = int(row_version_value)
    for entry in change.timeline:
        await conn.execute(
            "INSERT INTO case_timeline (case_id, at, kind, actor, entry) VALUES ($1, $2, $3, $4, $5::jsonb)",
            entry.case_id,
            entry.at,
            str(entry.kind),
            entry.actor,
            entry.model_dump_json(),
        )
    return row_version


async def record_decision(
    conn: asyncpg.Connection,
    *,
    source_event_id: uuid.UUID,
    registry_id: str | None,
    version: int | None,
    rule: str | None,
    decision: str,
    case_id: str | None,
    correlation_id: str,
) -> None:
    await conn.execute(
        "INSERT INTO decisions (source_event_id, registry_id, version, rule, decision, case_id, correlation_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        source_event_id,
        registry_id,
        version,
        rule,
        decision,
        case_id,
        correlation_id,
    )


async def publish_case_opened(conn: asyncpg.Connection, envelope: Envelope[CaseOpened]) -> None:
    await enqueue(conn, topic=ENFORCEMENT_CASES.name, envelope=envelope)


async def cases_for_model(pool: asyncpg.Pool, registry_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        'SELECT case_id, status, rule, row_version, "case" FROM cases WHERE registry_id = $1 ORDER BY opened_at',
        registry_id,
    )
    return [{**dict(r), "case": json.loads(r["case"])} for r in rows]


async def list_cases(pool: asyncpg.Pool, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        'SELECT case_id, registry_id, rule, status, row_version, opened_at, "case" FROM cases'
        " WHERE ($1::text IS NULL OR status = $1) ORDER BY opened_at DESC LIMIT $2",
        status,
        limit,
    )
    return [{**dict(r), "case": json.loads(r["case"])} for r in rows]


async def timeline(pool: asyncpg.Pool, case_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT entry FROM case_timeline WHERE case_id = $1 ORDER BY id", case_id)
    return [json.loads(r["entry"]) for r in rows]


async def decisions_for_models(pool: asyncpg.Pool, registry_ids: list[str]) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT source_event_id, registry_id, version, rule, decision, case_id, correlation_id, decided_at"
        " FROM decisions WHERE registry_id = ANY($1) ORDER BY decided_at",
        registry_ids,
    )
    return [dict(r) for r in rows]
