"""Enforcement's writes: cases with optimistic concurrency, timelines, evidence, actions, decisions, standing.

Reads for the API and the desk are in queries.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.plumbing.db import hold_lock

from .domain import ActionTaken, Case, CaseChange


class StaleCaseError(Exception):
    """Another officer changed the case since it was read."""

    def __init__(self, case_id: str, current_row_version: int | None) -> None:
        self.case_id = case_id
        self.current_row_version = current_row_version
        super().__init__(f"case {case_id} was changed by someone else; reload it and try again")


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


async def lock_case_key(conn: asyncpg.Connection, model_key: str, rule: str) -> None:
    """Serialise this transaction with others on the same (model, rule) until it ends: a case opened by one is
    seen by the next (the consumers get this from Kafka's ordering by key; officers' requests need the lock)."""
    await hold_lock(conn, f"enforcement-case\n{model_key}\n{rule}")


async def decision_for(conn: asyncpg.Connection, source_id: uuid.UUID) -> asyncpg.Record | None:
    """The decision already recorded for an event or finding (its decision and case id), if any."""
    return await conn.fetchrow("SELECT decision, case_id FROM decisions WHERE source_event_id = $1", source_id)


async def model_known(conn: asyncpg.Connection, registry_id: str) -> bool:
    """Whether enforcement has heard of this registry id: a filing about it, or any event it judged."""
    value = await conn.fetchval(
        "SELECT $1 NOT LIKE 'unregistered:%' AND (EXISTS (SELECT 1 FROM models WHERE registry_id = $1)"
        " OR EXISTS (SELECT 1 FROM decisions WHERE registry_id = $1))",
        registry_id,
    )
    return bool(value)


async def load_case(conn: asyncpg.Connection, case_id: str) -> tuple[Case, int] | None:
    """A case and the row version it was read at (no lock: writes check the version instead)."""
    row = await conn.fetchrow('SELECT "case", row_version FROM cases WHERE case_id = $1', case_id)
    return (Case.model_validate_json(row["case"]), int(row["row_version"])) if row else None


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
            current = await conn.fetchval("SELECT row_version FROM cases WHERE case_id = $1", case.id)
            raise StaleCaseError(case.id, current)
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
    reason: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO decisions (source_event_id, registry_id, version, rule, decision, case_id, correlation_id,"
        " reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        source_event_id,
        registry_id,
        version,
        rule,
        decision,
        case_id,
        correlation_id,
        reason,
    )


async def add_evidence(
    conn: asyncpg.Connection, *, case_id: str, source_event_id: uuid.UUID, event_type: str, evidence: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO case_evidence (case_id, source_event_id, event_type, evidence) VALUES ($1, $2, $3, $4::jsonb)",
        case_id,
        source_event_id,
        event_type,
        json.dumps(evidence, default=str),
    )


async def save_action(conn: asyncpg.Connection, action: ActionTaken, *, standing_applied: bool) -> None:
    await conn.execute(
        "INSERT INTO actions (action_id, case_id, model_key, registry_id, kind, taken_at, effective_at,"
        " standing_applied, action) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
        action.action_id,
        action.case_id,
        action.model_key,
        action.registry_id,
        str(action.kind),
        action.taken_at,
        action.effective_at,
        standing_applied,
        action.model_dump_json(),
    )


async def actions_for_model(conn: asyncpg.Connection, model_key: str) -> list[ActionTaken]:
    rows = await conn.fetch("SELECT action FROM actions WHERE model_key = $1 ORDER BY taken_at", model_key)
    return [ActionTaken.model_validate_json(r["action"]) for r in rows]


async def cases_for_model_key(conn: asyncpg.Connection, model_key: str) -> list[Case]:
    rows = await conn.fetch('SELECT "case" FROM cases WHERE model_key = $1 ORDER BY opened_at', model_key)
    return [Case.model_validate_json(r["case"]) for r in rows]


async def remember_model(
    conn: asyncpg.Connection,
    registry_id: str,
    *,
    model_name: str | None,
    developer_name: str | None,
    organisation_id: str | None,
    registered: bool,
) -> None:
    """Insert or update what enforcement knows of a model; `registered` only ever turns true."""
    await conn.execute(
        "INSERT INTO models (registry_id, model_name, developer_name, organisation_id, registered)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (registry_id) DO UPDATE SET"
        " model_name = coalesce(EXCLUDED.model_name, models.model_name),"
        " developer_name = coalesce(EXCLUDED.developer_name, models.developer_name),"
        " organisation_id = coalesce(EXCLUDED.organisation_id, models.organisation_id),"
        " registered = models.registered OR EXCLUDED.registered, updated_at = now()",
        registry_id,
        model_name,
        developer_name,
        organisation_id,
        registered,
    )


async def set_withdrawn(conn: asyncpg.Connection, registry_id: str, withdrawn: bool) -> None:
    await conn.execute(
        # A model first heard of through its status counts as registered (intake accepted the status change).
        "INSERT INTO models (registry_id, withdrawn, registered) VALUES ($1, $2, true)"
        " ON CONFLICT (registry_id) DO UPDATE SET withdrawn = EXCLUDED.withdrawn, updated_at = now()",
        registry_id,
        withdrawn,
    )


async def model_facts(conn: asyncpg.Connection, registry_id: str) -> tuple[bool, bool, str | None, str | None]:
    """(registered, withdrawn, model name, developer name) as far as enforcement has seen.

    A model enforcement never heard of, or one that was verified, counts as registered: verification and
    evaluations only ever see registered models, and their events may overtake the registration.
    """
    row = await conn.fetchrow(
        "SELECT registered, withdrawn, model_name, developer_name,"
        " EXISTS (SELECT 1 FROM compute_observations c WHERE c.registry_id = m.registry_id) AS verified"
        " FROM models m WHERE registry_id = $1",
        registry_id,
    )
    if row is None:
        return True, False, None, None
    return bool(row["registered"] or row["verified"]), bool(row["withdrawn"]), row["model_name"], row["developer_name"]


async def is_reserved_only(conn: asyncpg.Connection, registry_id: str) -> bool:
    """True when `registry_id` is known only from a training notice: no registration or verification seen."""
    value = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM models WHERE registry_id = $1 AND NOT registered)"
        " AND NOT EXISTS (SELECT 1 FROM compute_observations WHERE registry_id = $1)",
        registry_id,
    )
    return bool(value)


async def record_compute_observation(conn: asyncpg.Connection, **values: Any) -> None:
    await conn.execute(
        "INSERT INTO compute_observations (registry_id, version, run, status, declared_flop, max_estimate_flop,"
        " declared_tier, verified_tier, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT DO NOTHING",
        values["registry_id"],
        values["version"],
        values["run"],
        values["status"],
        values["declared_flop"],
        values["max_estimate_flop"],
        values["declared_tier"],
        values["verified_tier"],
        values["verified_at"],
    )


async def last_standing(conn: asyncpg.Connection, model_key: str) -> str | None:
    return await conn.fetchval("SELECT standing FROM model_standing WHERE model_key = $1 FOR UPDATE", model_key)


async def save_standing(
    conn: asyncpg.Connection, model_key: str, *, standing: str, reasons: list[str], case_ids: list[str], at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO model_standing (model_key, standing, reasons, case_ids, updated_at)"
        " VALUES ($1, $2, $3::jsonb, $4::jsonb, $5) ON CONFLICT (model_key) DO UPDATE SET"
        " standing = EXCLUDED.standing, reasons = EXCLUDED.reasons, case_ids = EXCLUDED.case_ids,"
        " updated_at = EXCLUDED.updated_at",
        model_key,
        standing,
        json.dumps(reasons),
        json.dumps(case_ids),
        at,
    )


async def due_response_cases(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[tuple[Case, int]]:
    """Cases whose stored response deadline has passed while they wait on the developer; locked, skipping
    those another replica holds."""
    rows = await conn.fetch(
        "SELECT \"case\", row_version FROM cases WHERE status IN ('notice_issued', 'awaiting_response')"
        " AND response_due_at <= $1 ORDER BY response_due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [(Case.model_validate_json(r["case"]), int(r["row_version"])) for r in rows]


async def claim_due_actions(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[tuple[str, str | None]]:
    """Mark actions that became effective as applied; returns their (model key, registry id) pairs."""
    rows = await conn.fetch(
        "UPDATE actions SET standing_applied = true WHERE action_id IN (SELECT action_id FROM actions"
        " WHERE NOT standing_applied AND effective_at <= $1 ORDER BY effective_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " RETURNING model_key, registry_id",
        now,
        limit,
    )
    return sorted({(r["model_key"], r["registry_id"]) for r in rows})
