"""Upgrading a running registry: evaluations' migration 003 starts the periodic clock of models already planned
and carries domains earlier plans could not assign into the wait for a lab."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack import Infrastructure
from services.plumbing.db import create_pool, migrate

pytestmark = pytest.mark.component
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "evaluations" / "migrations"
REGISTERED = datetime(2026, 5, 1, tzinfo=UTC)
INCIDENT = datetime(2026, 6, 1, tzinfo=UTC)


def _plan(kind: str, reference: str, required: list[str], unassignable: list[dict[str, str]]) -> str:
    trigger = {"kind": kind, "reference": reference, "extra_domains": []}
    return json.dumps({"trigger": trigger, "required_domains": required, "unassignable": unassignable})


async def test_existing_models_get_their_periodic_clock_and_their_waiting_domains(
    infra: Infrastructure, tmp_path: Path
) -> None:
    schema = f"evaluations_upgrade_{uuid.uuid4().hex[:8]}"  # a schema of its own, dropped at the end
    for migration in ("001_plans.sql", "002_lab_topics_results_deadlines.sql"):
        shutil.copy(MIGRATIONS / migration, tmp_path / migration)
    pool = await create_pool(infra.database_url, schema=schema, max_size=2)
    try:
        assert await migrate(pool, schema=schema, directory=tmp_path) == [1, 2]
        for registry_id, tier in (("M-FRONTIER", "frontier"), ("M-BELOW", "below")):
            await pool.execute(
                "INSERT INTO models (registry_id, version, tier, developer, model_name) VALUES ($1, 2, $2, 'D', 'm')",
                registry_id,
                tier,
            )
        waiting = {"request_id": "req-persuasion-v2", "domain": "persuasion", "reason": "no lab is accredited"}
        old_wait = {"request_id": "req-persuasion-v1", "domain": "persuasion", "reason": "no lab is accredited"}
        incident_wait = {"request_id": "req-persuasion-v2-inc", "domain": "persuasion", "reason": "all labs full"}
        plans = [
            ("M-FRONTIER", 1, _plan("registration", "", ["chem_bio", "persuasion"], [old_wait]), REGISTERED),
            ("M-FRONTIER", 2, _plan("substantial_amendment", "", ["chem_bio", "persuasion"], [waiting]), REGISTERED),
            ("M-FRONTIER", 2, _plan("incident", "INC-1", ["chem_bio", "persuasion"], [incident_wait]), INCIDENT),
            ("M-BELOW", 2, _plan("registration", "", [], []), REGISTERED),
        ]
        for registry_id, version, plan, planned_at in plans:
            await pool.execute(
                "INSERT INTO plans (event_id, registry_id, version, tier, plan, planned_at)"
                " VALUES ($1, $2, $3, 'frontier', $4::jsonb, $5)",
                uuid.uuid4(),
                registry_id,
                version,
                plan,
                planned_at,
            )
        assert await migrate(pool, schema=schema, directory=MIGRATIONS) == [3]
        clocks = dict(await pool.fetch("SELECT registry_id, last_full_plan_at FROM models"))  # type: ignore[arg-type]
        # The incident plan is not a full plan; a tier requiring nothing has no clock.
        assert clocks == {"M-FRONTIER": REGISTERED, "M-BELOW": None}
        carried = await pool.fetch(
            "SELECT request_id, version, domain, trigger->>'kind', reason FROM waiting_domains ORDER BY since"
        )
        # Only the current version's domains wait (version 1's wait ended with version 2), each under its trigger.
        assert [tuple(r) for r in carried] == [
            ("req-persuasion-v2", 2, "persuasion", "substantial_amendment", "no lab is accredited"),
            ("req-persuasion-v2-inc", 2, "persuasion", "incident", "all labs full"),
        ]
        kinds = await pool.fetch("SELECT trigger_kind, trigger_reference FROM plans ORDER BY planned_at, trigger_kind")
        assert ("incident", "INC-1") in [tuple(k) for k in kinds]
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
