"""All of verification's SQL. Outcomes and their events are written in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry_contracts import ComputeVerified, Envelope
from registry_contracts.events.intake import ComputeAttested, ModelDesignationChanged, TrainingNoticeFiled
from registry_contracts.topics import VERIFICATION_OUTCOMES
from services.plumbing.db import hold_lock
from services.plumbing.outbox import enqueue

from .domain import DesignationDecision, DesignationEffect

MAX_OUTCOMES_LISTED = 1000


@dataclass(frozen=True)
class StoredDeclaration:
    """One filing version as verification keeps it: the filing event's payload and what later versions need."""

    registry_id: str
    version: int
    organisation_id: str
    kind: str  # registration | amendment
    filing: dict[str, Any]
    declared_cumulative_flop: float
    designated: bool
    biological: bool


@dataclass(frozen=True)
class LatestRun:
    version: int
    run: int
    verified_flop: float | None
    verified_by: str | None


async def lock_organisation(conn: asyncpg.Connection, organisation_id: str) -> None:
    """Serialise the filings and attestations of one organisation until the transaction ends.

    A registration and an attestation of the same run may be handled at the same moment (different
    partitions, different replicas); whichever commits second then sees the first, so neither misses it.
    """
    await hold_lock(conn, f"verification-org:{organisation_id}")


async def lock_model(conn: asyncpg.Connection, registry_id: str) -> None:
    """Serialise a model's filings and the regulator's designation decisions until the transaction ends.

    Taken after `lock_organisation` wherever both are taken, so that a registration and a designation handled at
    the same moment cannot both miss each other (whichever commits second sees the first)."""
    await hold_lock(conn, f"verification-model:{registry_id}")


async def save_declaration(
    conn: asyncpg.Connection, declaration: StoredDeclaration, *, filing_json: str, correlation_id: str
) -> bool:
    """Keep a filing version; False when this version was already kept (a second filing event for it)."""
    d = declaration
    inserted = await conn.fetchval(
        "INSERT INTO declarations (registry_id, version, organisation_id, kind, filing, declared_cumulative_flop,"
        " designated, biological, correlation_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)"
        " ON CONFLICT (registry_id, version) DO NOTHING RETURNING true",
        d.registry_id,
        d.version,
        d.organisation_id,
        d.kind,
        filing_json,
        d.declared_cumulative_flop,
        d.designated,
        d.biological,
        correlation_id,
    )
    return bool(inserted)


def _declaration(row: asyncpg.Record) -> StoredDeclaration:
    return StoredDeclaration(
        registry_id=row["registry_id"],
        version=row["version"],
        organisation_id=row["organisation_id"],
        kind=row["kind"],
        filing=json.loads(row["filing"]),
        declared_cumulative_flop=row["declared_cumulative_flop"],
        designated=row["designated"],
        biological=row["biological"],
    )


_DECLARATION_COLUMNS = (
    "registry_id, version, organisation_id, kind, filing, declared_cumulative_flop, designated, biological"
)


async def previous_declaration(conn: asyncpg.Connection, registry_id: str, version: int) -> StoredDeclaration | None:
    """The latest version of a model before `version` that verification holds, if any."""
    row = await conn.fetchrow(
        f"SELECT {_DECLARATION_COLUMNS} FROM declarations WHERE registry_id = $1 AND version < $2"
        " ORDER BY version DESC LIMIT 1",
        registry_id,
        version,
    )
    return _declaration(row) if row else None


async def declarations_of_organisation(
    conn: asyncpg.Connection, organisation_id: str, *, registry_id: str | None = None
) -> list[StoredDeclaration]:
    """Every filing version of an organisation (of one model when `registry_id` is given)."""
    rows = await conn.fetch(
        f"SELECT {_DECLARATION_COLUMNS} FROM declarations WHERE organisation_id = $1"
        " AND ($2::text IS NULL OR registry_id = $2) ORDER BY registry_id, version",
        organisation_id,
        registry_id,
    )
    return [_declaration(r) for r in rows]


async def latest_declaration(conn: asyncpg.Connection, registry_id: str) -> StoredDeclaration | None:
    """The newest version of a model that verification holds, if any."""
    row = await conn.fetchrow(
        f"SELECT {_DECLARATION_COLUMNS} FROM declarations WHERE registry_id = $1 ORDER BY version DESC LIMIT 1",
        registry_id,
    )
    return _declaration(row) if row else None


async def latest_run(conn: asyncpg.Connection, registry_id: str, version: int) -> LatestRun | None:
    row = await conn.fetchrow(
        "SELECT version, run, verified_flop, outcome -> 'details' ->> 'verified_by' AS verified_by"
        " FROM verifications WHERE registry_id = $1 AND version = $2 ORDER BY run DESC LIMIT 1",
        registry_id,
        version,
    )
    if row is None:
        return None
    return LatestRun(row["version"], row["run"], row["verified_flop"], row["verified_by"])


async def next_run(conn: asyncpg.Connection, registry_id: str, version: int) -> int:
    run = await conn.fetchval(
        "SELECT coalesce(max(run), 0) + 1 FROM verifications WHERE registry_id = $1 AND version = $2",
        registry_id,
        version,
    )
    return int(run)


async def save_attestation(conn: asyncpg.Connection, attestation: ComputeAttested, *, event_id: Any) -> bool:
    """Keep an attestation; False when its id is already known (a provider re-sent it)."""
    inserted = await conn.fetchval(
        "INSERT INTO attestations (attestation_id, organisation_id, provider_id, registry_id, attestation, event_id)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (attestation_id) DO NOTHING RETURNING true",
        attestation.attestation_id,
        attestation.customer.organisation_id,
        attestation.provider_id,
        attestation.registry_id,
        attestation.model_dump_json(),
        event_id,
    )
    return bool(inserted)


async def attestations_of_organisation(conn: asyncpg.Connection, organisation_id: str) -> list[ComputeAttested]:
    rows = await conn.fetch(
        "SELECT attestation FROM attestations WHERE organisation_id = $1 ORDER BY received_at, attestation_id",
        organisation_id,
    )
    return [ComputeAttested.model_validate_json(r["attestation"]) for r in rows]


async def save_training_notice(conn: asyncpg.Connection, notice: TrainingNoticeFiled) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO training_notices (notice_id, registry_id, organisation_id, planned_training_flop, notice)"
        " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (notice_id) DO NOTHING RETURNING true",
        notice.notice_id,
        notice.registry_id,
        notice.developer.organisation_id,
        notice.planned_training_flop,
        notice.model_dump_json(),
    )
    return bool(inserted)


async def training_notices_of_model(conn: asyncpg.Connection, registry_id: str) -> list[TrainingNoticeFiled]:
    rows = await conn.fetch(
        "SELECT notice FROM training_notices WHERE registry_id = $1 ORDER BY received_at, notice_id", registry_id
    )
    return [TrainingNoticeFiled.model_validate_json(r["notice"]) for r in rows]


async def designation_in_force(conn: asyncpg.Connection, registry_id: str) -> DesignationDecision | None:
    """The regulator's decision in force for a model (None when the regulator never decided about it)."""
    row = await conn.fetchrow(
        "SELECT d.designation_id, d.designated, d.reason, d.decided_by, d.decided_at FROM model_designations m"
        " JOIN designation_decisions d USING (designation_id) WHERE m.registry_id = $1",
        registry_id,
    )
    if row is None:
        return None
    return DesignationDecision(
        designation_id=row["designation_id"],
        designated=row["designated"],
        reason=row["reason"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


async def save_designation_decision(
    conn: asyncpg.Connection, decision: ModelDesignationChanged, *, event_id: Any, effect: DesignationEffect
) -> bool:
    """Keep a designation decision with what it did; False when its id is already known (sent again)."""
    inserted = await conn.fetchval(
        "INSERT INTO designation_decisions (designation_id, registry_id, designated, reason, decided_by, decided_at,"
        " rule_profile_id, event_id, effect) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (designation_id) DO NOTHING RETURNING true",
        decision.designation_id,
        decision.registry_id,
        decision.designated,
        decision.reason,
        decision.decided_by,
        decision.decided_at,
        decision.rule_profile_id,
        event_id,
        effect.value,
    )
    return bool(inserted)


async def put_designation_in_force(conn: asyncpg.Connection, registry_id: str, designation_id: str) -> None:
    await conn.execute(
        "INSERT INTO model_designations (registry_id, designation_id) VALUES ($1, $2) ON CONFLICT (registry_id)"
        " DO UPDATE SET designation_id = excluded.designation_id, updated_at = now()",
        registry_id,
        designation_id,
    )


async def save_outcome(
    conn: asyncpg.Connection,
    envelope: Envelope[ComputeVerified],
    details: dict[str, Any],
    *,
    verified_flop: float | None,
    attestations_used: list[str],
) -> None:
    """Record a verification run with its full reasoning, the attestations it used, and publish it."""
    event = envelope.data
    estimates = [e.flop for e in event.estimates if e.flop is not None]
    await conn.execute(
        "INSERT INTO verifications (registry_id, version, run, status, declared_tier, verified_tier, outcome,"
        " event_id, verified_at, trigger, declared_flop, max_estimate_flop, verified_flop)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13)",
        event.registry_id,
        event.version,
        event.run,
        event.status.value,
        event.declared_tier.value,
        event.verified_tier.value,
        json.dumps({"event": event.model_dump(mode="json"), "details": details}),
        envelope.id,
        event.verified_at,
        event.trigger,
        event.declared_training_flop,
        max(estimates) if estimates else None,
        verified_flop,
    )
    if attestations_used:
        await conn.executemany(
            "INSERT INTO attestation_uses (attestation_id, registry_id, version, run) VALUES ($1, $2, $3, $4)",
            [(a, event.registry_id, event.version, event.run) for a in attestations_used],
        )
    await enqueue(conn, topic=VERIFICATION_OUTCOMES.name, envelope=envelope)


async def list_outcomes(pool: asyncpg.Pool, registry_id: str) -> list[dict[str, Any]]:
    """Every run of every version of a model, oldest first, with the full reasoning."""
    rows = await pool.fetch(
        "SELECT version, run, trigger, status, declared_tier, verified_tier, outcome, verified_at FROM verifications"
        " WHERE registry_id = $1 ORDER BY version, run",
        registry_id,
    )
    return [{**dict(r), "outcome": json.loads(r["outcome"])} for r in rows]


async def latest_outcomes(pool: asyncpg.Pool, *, limit: int) -> list[dict[str, Any]]:
    """The latest run of each model version, most recently verified first (the analyst chart's points)."""
    rows = await pool.fetch(
        "SELECT * FROM (SELECT DISTINCT ON (registry_id, version) registry_id, version, run, trigger, status,"
        " declared_tier, verified_tier, declared_flop, max_estimate_flop, verified_flop, verified_at,"
        " outcome -> 'event' ->> 'model_name' AS model_name,"
        " outcome -> 'event' -> 'developer' ->> 'organisation_id' AS organisation_id"
        " FROM verifications ORDER BY registry_id, version, run DESC) latest"
        " ORDER BY verified_at DESC, registry_id, version LIMIT $1",
        min(limit, MAX_OUTCOMES_LISTED),
    )
    return [dict(r) for r in rows]


async def list_attestations(pool: asyncpg.Pool, organisation_id: str) -> list[dict[str, Any]]:
    """An organisation's attestations, each with the verification runs that used it."""
    rows = await pool.fetch(
        "SELECT a.attestation, a.received_at, coalesce(jsonb_agg(jsonb_build_object('registry_id', u.registry_id,"
        " 'version', u.version, 'run', u.run) ORDER BY u.registry_id, u.version, u.run)"
        " FILTER (WHERE u.attestation_id IS NOT NULL), '[]'::jsonb) AS used_by"
        " FROM attestations a LEFT JOIN attestation_uses u USING (attestation_id)"
        " WHERE a.organisation_id = $1 GROUP BY a.attestation_id ORDER BY a.received_at, a.attestation_id",
        organisation_id,
    )
    return [
        {**json.loads(r["attestation"]), "received_at": r["received_at"], "used_by": json.loads(r["used_by"])}
        for r in rows
    ]


async def count_outcomes(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM verifications WHERE registry_id = ANY($1)", registry_ids))
