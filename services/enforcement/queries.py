"""Enforcement's reads for the API and the officers' desk: the queue, a case with its timeline and evidence,
decisions, and the analysts' figures. Writes are in store.py."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

# The latest verification of each model: its tier and the compute figures the analysts' chart plots.
_LATEST = (
    "latest AS (SELECT DISTINCT ON (registry_id) registry_id, verified_tier, declared_tier, status AS verification,"
    " declared_flop, max_estimate_flop, verified_at FROM compute_observations"
    " ORDER BY registry_id, verified_at DESC, version DESC, run DESC)"
)
_CASE_COLUMNS = (
    "c.case_id, c.registry_id, c.model_key, c.rule, c.status, c.assigned_officer, c.response_due_at, c.opened_at,"
    " c.updated_at, c.row_version, c.\"case\" ->> 'summary' AS summary, (c.\"case\" ->> 'breach_count')::int"
    " AS breach_count, coalesce(l.verified_tier, CASE WHEN c.registry_id IS NULL THEN 'unregistered'"
    " ELSE 'unverified' END) AS tier, m.model_name, m.developer_name"
)
_CASE_FROM = (
    "cases c LEFT JOIN latest l ON l.registry_id = c.registry_id LEFT JOIN models m ON m.registry_id = c.model_key"
)


def _case_row(row: asyncpg.Record, *, with_case: bool = False) -> dict[str, Any]:
    values = dict(row)
    if with_case:
        values["case"] = json.loads(values["case"])
    return values


async def list_cases(
    pool: asyncpg.Pool,
    *,
    status: str | None = None,
    rule: str | None = None,
    assignee: str | None = None,
    registry_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The queue, newest first; `assignee` "unassigned" selects cases nobody holds."""
    rows = await pool.fetch(
        f'WITH {_LATEST} SELECT {_CASE_COLUMNS}, c."case" FROM {_CASE_FROM}'
        " WHERE ($1::text IS NULL OR c.status = $1) AND ($2::text IS NULL OR c.rule = $2)"
        " AND ($3::text IS NULL OR ($3 = 'unassigned' AND c.assigned_officer IS NULL) OR c.assigned_officer = $3)"
        " AND ($4::text IS NULL OR c.registry_id = $4 OR c.model_key = $4)"
        " ORDER BY c.opened_at DESC, c.case_id DESC LIMIT $5",
        status,
        rule,
        assignee,
        registry_id,
        limit,
    )
    return [_case_row(r, with_case=True) for r in rows]


async def queue_counts(pool: asyncpg.Pool) -> dict[str, dict[str, int]]:
    """How many cases there are by status, by rule and by assignee (for the queue's filters)."""
    rows = await pool.fetch(
        "SELECT 'status' AS facet, status AS value, count(*) AS n FROM cases GROUP BY status"
        " UNION ALL SELECT 'rule', rule, count(*) FROM cases GROUP BY rule"
        " UNION ALL SELECT 'assignee', coalesce(assigned_officer, 'unassigned'), count(*) FROM cases"
        " GROUP BY coalesce(assigned_officer, 'unassigned')"
    )
    counts: dict[str, dict[str, int]] = {"status": {}, "rule": {}, "assignee": {}}
    for row in rows:
        counts[row["facet"]][row["value"]] = int(row["n"])
    return counts


async def case_detail(pool: asyncpg.Pool, case_id: str) -> dict[str, Any] | None:
    """A case with its row version, timeline, evidence and actions; None when there is no such case."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f'WITH {_LATEST} SELECT {_CASE_COLUMNS}, c."case" FROM {_CASE_FROM} WHERE case_id = $1', case_id
        )
        if row is None:
            return None
        detail = _case_row(row, with_case=True)
        detail["timeline"] = [
            json.loads(r["entry"])
            for r in await conn.fetch("SELECT entry FROM case_timeline WHERE case_id = $1 ORDER BY id", case_id)
        ]
        detail["evidence"] = [
            {"event_type": r["event_type"], "recorded_at": r["recorded_at"], "facts": json.loads(r["evidence"])}
            for r in await conn.fetch(
                "SELECT event_type, recorded_at, evidence FROM case_evidence WHERE case_id = $1 ORDER BY id", case_id
            )
        ]
        detail["actions"] = [
            json.loads(r["action"])
            for r in await conn.fetch("SELECT action FROM actions WHERE case_id = $1 ORDER BY taken_at", case_id)
        ]
        detail["standing"] = await conn.fetchval(
            "SELECT standing FROM model_standing WHERE model_key = $1", detail["model_key"]
        )
        return detail


async def timeline(pool: asyncpg.Pool, case_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT entry FROM case_timeline WHERE case_id = $1 ORDER BY id", case_id)
    return [json.loads(r["entry"]) for r in rows]


async def decisions_for_models(pool: asyncpg.Pool, registry_ids: list[str]) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT source_event_id, registry_id, version, rule, decision, case_id, correlation_id, reason, decided_at"
        " FROM decisions WHERE registry_id = ANY($1) ORDER BY decided_at",
        registry_ids,
    )
    return [dict(r) for r in rows]


async def counts_by_tier_and_status(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"WITH {_LATEST} SELECT coalesce(l.verified_tier, CASE WHEN c.registry_id IS NULL THEN 'unregistered'"
        " ELSE 'unverified' END) AS tier, c.status, count(*) AS cases"
        " FROM cases c LEFT JOIN latest l ON l.registry_id = c.registry_id GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return [{"tier": r["tier"], "status": r["status"], "cases": int(r["cases"])} for r in rows]


async def compute_points(pool: asyncpg.Pool, limit: int = 500) -> list[dict[str, Any]]:
    """Each model's latest declared compute and largest estimate, with whether it has an open case."""
    rows = await pool.fetch(
        f"WITH {_LATEST} SELECT l.registry_id, l.declared_flop, l.max_estimate_flop, l.verification,"
        " l.verified_tier, m.model_name, EXISTS (SELECT 1 FROM cases c WHERE c.registry_id = l.registry_id"
        " AND c.status <> 'closed') AS open_case FROM latest l LEFT JOIN models m USING (registry_id)"
        " ORDER BY l.verified_at DESC LIMIT $1",
        limit,
    )
    return [dict(r) for r in rows]


async def export_rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every case as a flat row, for the analysts' CSV export."""
    rows = await pool.fetch(
        f"WITH {_LATEST} SELECT {_CASE_COLUMNS}, l.declared_flop, l.max_estimate_flop,"
        " c.\"case\" ->> 'decision' AS decision, c.\"case\" ->> 'resolution' AS resolution,"
        " (SELECT count(*) FROM actions a WHERE a.case_id = c.case_id) AS actions"
        f" FROM {_CASE_FROM} ORDER BY c.opened_at, c.case_id"
    )
    return [dict(r) for r in rows]
