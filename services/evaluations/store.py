"""All of evaluations' SQL. State and the events it causes are written in one transaction (outbox)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, TypeAlias

import asyncpg

from registry_contracts import Envelope, EvaluationsPlanned
from registry_contracts.events.evaluations import lab_request_topic
from registry_contracts.topics import EVALUATIONS_OUTCOMES, EVALUATIONS_PLANS
from services.plumbing.outbox import enqueue

from .domain import EvaluationPlan, EvaluationRequest, Lab, PlanTrigger, RequestStatus, restarts_periodic_clock

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


async def upsert_lab(conn: asyncpg.Connection | asyncpg.Pool, lab: Lab) -> None:
    await conn.execute(
        "INSERT INTO labs (lab_id, lab) VALUES ($1, $2::jsonb)"
        " ON CONFLICT (lab_id) DO UPDATE SET lab = excluded.lab, updated_at = now()",
        lab.lab_id,
        lab.model_dump_json(),
    )


async def get_lab(conn: Db, lab_id: str, *, for_update: bool = False) -> Lab | None:
    lock = " FOR UPDATE" if for_update else ""
    raw = await conn.fetchval(f"SELECT lab FROM labs WHERE lab_id = $1{lock}", lab_id)
    return Lab.model_validate_json(raw) if raw is not None else None


async def lab_provisioning(conn: Db, lab_id: str) -> dict[str, Any] | None:
    """When the lab's Kafka topics were provisioned and under which principal (None: unknown lab)."""
    row = await conn.fetchrow("SELECT kafka_provisioned_at, kafka_principal FROM labs WHERE lab_id = $1", lab_id)
    return dict(row) if row is not None else None


async def mark_lab_provisioned(conn: Db, lab_id: str, *, principal: str | None) -> None:
    await conn.execute(
        "UPDATE labs SET kafka_provisioned_at = now(), kafka_principal = coalesce($2, kafka_principal)"
        " WHERE lab_id = $1",
        lab_id,
        principal,
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


async def save_plan(
    conn: asyncpg.Connection,
    plan: EvaluationPlan,
    envelope: Envelope[EvaluationsPlanned],
    lab_requests: list[tuple[str, Envelope[Any]]],
    *,
    requested_by: str | None = None,
) -> None:
    """Store a plan, its requests and supersessions, the domains it left waiting for a lab, and when the
    model's periodic clock restarts; enqueue the plan and each lab's request on its topic."""
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
        "INSERT INTO plans (event_id, registry_id, version, tier, plan, planned_at, requested_by, trigger_kind,"
        " trigger_reference) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)",
        envelope.id,
        plan.registry_id,
        plan.model_version,
        plan.tier.value,
        plan.model_dump_json(),
        plan.planned_at,
        requested_by,
        plan.trigger.kind.value,
        plan.trigger.reference,
    )
    await _keep_waiting_domains(conn, plan)
    if restarts_periodic_clock(plan):
        await conn.execute(
            "UPDATE models SET last_full_plan_at = $3 WHERE registry_id = $1 AND version = $2",
            plan.registry_id,
            plan.model_version,
            plan.planned_at,
        )
    await enqueue(conn, topic=EVALUATIONS_PLANS.name, envelope=envelope)
    for lab_id, lab_request in lab_requests:
        await enqueue(conn, topic=lab_request_topic(lab_id).name, envelope=lab_request)


async def _keep_waiting_domains(conn: asyncpg.Connection, plan: EvaluationPlan) -> None:
    # A newer version's plan ends the wait of every older version's domains; what this plan assigned stops waiting.
    await conn.execute(
        "DELETE FROM waiting_domains WHERE registry_id = $1 AND (version < $2 OR request_id = ANY($3))",
        plan.registry_id,
        plan.model_version,
        [r.request_id for r in plan.requests],
    )
    for waiting in plan.unassignable:
        await conn.execute(
            "INSERT INTO waiting_domains (request_id, registry_id, version, domain, trigger, reason, since, checked_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $7)"
            " ON CONFLICT (request_id) DO UPDATE SET reason = excluded.reason, checked_at = excluded.checked_at",
            waiting.request_id,
            plan.registry_id,
            plan.model_version,
            waiting.domain,
            plan.trigger.model_dump_json(),
            waiting.reason,
            plan.planned_at,
        )


async def plan_by_trigger(conn: Db, *, registry_id: str, version: int, trigger: PlanTrigger) -> dict[str, Any] | None:
    """The first plan a trigger occurrence made for a model version (None: not planned yet)."""
    row = await conn.fetchrow(
        "SELECT plan, requested_by FROM plans WHERE registry_id = $1 AND version = $2 AND trigger_kind = $3"
        " AND trigger_reference = $4 ORDER BY planned_at LIMIT 1",
        registry_id,
        version,
        trigger.kind.value,
        trigger.reference,
    )
    return {"plan": json.loads(row["plan"]), "requested_by": row["requested_by"]} if row is not None else None


async def claim_periodic_due(conn: asyncpg.Connection, *, due_if_planned_before: datetime) -> dict[str, Any] | None:
    """One model whose last full plan is older than the cut-off, locked for this transaction (None: none)."""
    row = await conn.fetchrow(
        "SELECT * FROM models WHERE last_full_plan_at <= $1 ORDER BY last_full_plan_at, registry_id LIMIT 1"
        " FOR UPDATE SKIP LOCKED",
        due_if_planned_before,
    )
    return dict(row) if row is not None else None


async def set_last_full_plan(conn: asyncpg.Connection, registry_id: str, at: datetime | None) -> None:
    await conn.execute("UPDATE models SET last_full_plan_at = $2 WHERE registry_id = $1", registry_id, at)


async def waiting_groups(conn: Db, *, checked_before: datetime, limit: int) -> list[dict[str, Any]]:
    """Domains waiting for a lab, grouped by the plan trigger that required them, least recently tried first."""
    rows = await conn.fetch(
        "SELECT registry_id, version, trigger, array_agg(domain ORDER BY domain) AS domains,"
        " min(checked_at) AS checked_at FROM waiting_domains WHERE checked_at < $1"
        " GROUP BY registry_id, version, trigger ORDER BY min(checked_at), registry_id LIMIT $2",
        checked_before,
        limit,
    )
    return [
        {**dict(r), "trigger": PlanTrigger.model_validate_json(r["trigger"]), "domains": list(r["domains"])}
        for r in rows
    ]


async def waiting_for_model(conn: Db, registry_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT request_id, version, domain, trigger, reason, since, checked_at FROM waiting_domains"
        " WHERE registry_id = $1 ORDER BY since, domain",
        registry_id,
    )
    return [{**dict(r), "trigger": json.loads(r["trigger"])} for r in rows]


async def settle_waiting(
    conn: asyncpg.Connection,
    *,
    registry_id: str,
    version: int,
    trigger: PlanTrigger,
    still_waiting: dict[str, str],
    ended: list[str],
    at: datetime,
) -> None:
    """After a retry: domains still without a lab keep waiting with today's reason; `ended` ones (another
    request now covers them) stop waiting."""
    for domain, reason in still_waiting.items():
        await conn.execute(
            "UPDATE waiting_domains SET reason = $5, checked_at = $6"
            " WHERE registry_id = $1 AND version = $2 AND trigger = $3::jsonb AND domain = $4",
            registry_id,
            version,
            trigger.model_dump_json(),
            domain,
            reason,
            at,
        )
    await conn.execute(
        "DELETE FROM waiting_domains WHERE registry_id = $1 AND version = $2 AND trigger = $3::jsonb"
        " AND domain = ANY($4)",
        registry_id,
        version,
        trigger.model_dump_json(),
        ended,
    )


async def drop_waiting(conn: asyncpg.Connection, *, registry_id: str, version: int) -> int:
    """A model version no longer current: its waiting domains are moot (the newer plan decides)."""
    result = await conn.execute(
        "DELETE FROM waiting_domains WHERE registry_id = $1 AND version = $2", registry_id, version
    )
    return int(result.split()[-1])


async def plans_for_model(pool: asyncpg.Pool, registry_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT version, tier, plan, planned_at FROM plans WHERE registry_id = $1 ORDER BY planned_at", registry_id
    )
    return [{**dict(r), "plan": json.loads(r["plan"])} for r in rows]


async def count_plans(pool: asyncpg.Pool, registry_ids: list[str]) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM plans WHERE registry_id = ANY($1)", registry_ids))


async def remember_model(
    conn: asyncpg.Connection,
    *,
    registry_id: str,
    version: int,
    tier: str,
    developer: str,
    model_name: str,
    planned_deployment_date: date | None,
) -> None:
    """Keep the newest verified version of a model (an older version arriving late changes nothing)."""
    await conn.execute(
        "INSERT INTO models (registry_id, version, tier, developer, model_name, planned_deployment_date)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (registry_id) DO UPDATE SET version = excluded.version,"
        " tier = excluded.tier, developer = excluded.developer, model_name = excluded.model_name,"
        " planned_deployment_date = excluded.planned_deployment_date, updated_at = now()"
        " WHERE models.version <= excluded.version",
        registry_id,
        version,
        tier,
        developer,
        model_name,
        planned_deployment_date,
    )


async def get_model(conn: asyncpg.Connection, registry_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM models WHERE registry_id = $1", registry_id)
    return dict(row) if row is not None else None


async def add_pending_incident(conn: asyncpg.Connection, *, registry_id: str, incident_id: str, event_id: Any) -> None:
    await conn.execute(
        "INSERT INTO pending_incidents (registry_id, incident_id, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        registry_id,
        incident_id,
        event_id,
    )


async def take_pending_incidents(conn: asyncpg.Connection, registry_id: str) -> list[str]:
    rows = await conn.fetch(
        "DELETE FROM pending_incidents WHERE registry_id = $1 RETURNING incident_id, received_at", registry_id
    )
    return [r["incident_id"] for r in sorted(rows, key=lambda r: (r["received_at"], r["incident_id"]))]


async def get_request(conn: Db, request_id: str, *, for_update: bool = False) -> EvaluationRequest | None:
    lock = " FOR UPDATE" if for_update else ""
    raw = await conn.fetchval(f"SELECT request FROM evaluation_requests WHERE request_id = $1{lock}", request_id)
    return EvaluationRequest.model_validate_json(raw) if raw is not None else None


async def requests_for_lab(conn: Db, lab_id: str, *, status: RequestStatus | None = None) -> list[EvaluationRequest]:
    rows = await conn.fetch(
        "SELECT request FROM evaluation_requests WHERE lab_id = $1 AND ($2::text IS NULL OR status = $2)"
        " ORDER BY deadline, request_id",
        lab_id,
        status.value if status is not None else None,
    )
    return [EvaluationRequest.model_validate_json(r["request"]) for r in rows]


async def set_request_status(conn: asyncpg.Connection, request_id: str, status: RequestStatus, at: datetime) -> None:
    await conn.execute(
        "UPDATE evaluation_requests SET status = $2, completed_at = $3,"
        " request = jsonb_set(request, '{status}', to_jsonb($2::text)) WHERE request_id = $1",
        request_id,
        status.value,
        at,
    )


async def record_submission(
    conn: asyncpg.Connection,
    *,
    submission_id: Any,
    request_id: str,
    lab_id: str,
    via: str,
    accepted: bool,
    rejection: str | None,
    assessment: dict[str, Any],
    submission: dict[str, Any],
) -> bool:
    """Keep a lab's submission and its assessment; False when this submission id was recorded before."""
    inserted = await conn.fetchval(
        "INSERT INTO lab_submissions (submission_id, request_id, lab_id, via, accepted, rejection, assessment,"
        " submission) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb) ON CONFLICT DO NOTHING RETURNING true",
        submission_id,
        request_id,
        lab_id,
        via,
        accepted,
        rejection,
        json.dumps(assessment, default=str),
        json.dumps(submission, default=str),
    )
    return bool(inserted)


async def submission(conn: Db, submission_id: Any) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM lab_submissions WHERE submission_id = $1", submission_id)
    if row is None:
        return None
    return {**dict(row), "assessment": json.loads(row["assessment"]), "submission": json.loads(row["submission"])}


async def add_domain_verdict(
    conn: asyncpg.Connection, *, request: EvaluationRequest, verdict: str, at: datetime
) -> list[str]:
    """Record an accepted domain verdict; returns every verdict of the model version so far."""
    await conn.execute(
        "INSERT INTO domain_verdicts (registry_id, version, domain, request_id, verdict, decided_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        request.registry_id,
        request.model_version,
        request.domain,
        request.request_id,
        verdict,
        at,
    )
    rows = await conn.fetch(
        "SELECT verdict FROM domain_verdicts WHERE registry_id = $1 AND version = $2",
        request.registry_id,
        request.model_version,
    )
    return [r["verdict"] for r in rows]


async def enqueue_outcome(conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
    await enqueue(conn, topic=EVALUATIONS_OUTCOMES.name, envelope=envelope)


async def claim_due_requests(conn: asyncpg.Connection, *, now: datetime, limit: int) -> list[EvaluationRequest]:
    """Open requests past their deadline not yet reported overdue, locked for this transaction only."""
    rows = await conn.fetch(
        "SELECT request, deadline FROM evaluation_requests WHERE status = 'open' AND deadline_missed_at IS NULL"
        " AND deadline < $1 ORDER BY deadline, request_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    # The column is what the watch schedules on, so it is what the report says.
    return [EvaluationRequest.model_validate({**json.loads(r["request"]), "deadline": r["deadline"]}) for r in rows]


async def mark_deadline_missed(conn: asyncpg.Connection, request_id: str, at: datetime) -> None:
    await conn.execute("UPDATE evaluation_requests SET deadline_missed_at = $2 WHERE request_id = $1", request_id, at)


async def deadline_missed_at(conn: Db, request_id: str) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT deadline_missed_at FROM evaluation_requests WHERE request_id = $1", request_id
    )
    return value


async def request_counts(pool: asyncpg.Pool) -> dict[str, Any]:
    """Requests by status, open ones past their deadline, and domains waiting for a lab (for /metrics)."""
    rows = await pool.fetch("SELECT status, count(*) AS n FROM evaluation_requests GROUP BY status")
    overdue = await pool.fetchval(
        "SELECT count(*) FROM evaluation_requests WHERE status = 'open' AND deadline_missed_at IS NOT NULL"
    )
    waiting = await pool.fetchval("SELECT count(*) FROM waiting_domains")
    by_status = {status.value: 0 for status in RequestStatus} | {r["status"]: int(r["n"]) for r in rows}
    return {"by_status": by_status, "overdue": int(overdue), "waiting": int(waiting)}
