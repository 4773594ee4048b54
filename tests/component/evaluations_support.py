"""Builders shared by the evaluations component, integration and end-to-end tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import ComputeEstimate, ComputeVerified, Developer, Tier, VerificationStatus, new_envelope
from services.plumbing.inbox import IncomingMessage

ALL_DOMAINS = ["chem_bio", "cyber_offence", "autonomy_ai_rnd", "persuasion", "safeguard_robustness"]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def fresh_lab_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def lab_body(lab_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "lab_id": lab_id,
        "name": f"Lab {lab_id}",
        "accredited": True,
        "accredited_until": "2030-01-01",
        "domains": ALL_DOMAINS,
        "capacity": 1_000_000,  # so tests' labs win assignments over other tests' labs in the shared database
        "affiliations": [],
    } | overrides


def fresh_registry_id() -> str:
    return f"EVT-{uuid.uuid4().hex[:12]}"


def verified(
    registry_id: str, *, version: int = 1, tier: Tier = Tier.FRONTIER, trigger: str = "filing", developer: str = ""
) -> ComputeVerified:
    return ComputeVerified(
        registry_id=registry_id,
        version=version,
        developer=Developer(
            organisation_id=f"org-{uuid.uuid4().hex[:8]}",
            legal_name=developer or f"Developer {uuid.uuid4().hex[:6]} Ltd",
            country="GB",
        ),
        model_name=f"model-{registry_id}",
        status=VerificationStatus.CONSISTENT,
        declared_training_flop=2e26,
        estimates=[ComputeEstimate(method="architecture", flop=2e26, low_flop=1e26, high_flop=4e26)],
        tolerance_factor=2.0,
        threshold_flop=1e26,
        declared_tier=tier,
        verified_tier=tier,
        explanation="Declared 2e26 FLOP; consistent.",
        verified_at=NOW,
        rule_profile_id="baseline-2026-01",
        trigger=trigger,
    )


def message(envelope: Any, topic: str, *, offset: int = 1) -> IncomingMessage:
    return IncomingMessage(
        topic=topic,
        partition=0,
        offset=offset,
        key=envelope.subject.encode(),
        value=envelope.model_dump_json().encode(),
        headers={},
    )


def verified_message(registry_id: str, **kwargs: Any) -> IncomingMessage:
    envelope = new_envelope(verified(registry_id, **kwargs), subject=registry_id)
    return message(envelope, "verification.outcomes.v1")


async def rows(database_url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Query the evaluations schema on a short-lived connection."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "evaluations"})
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def outbox(database_url: str, registry_id: str, topic_like: str = "%") -> list[dict[str, Any]]:
    """Outbox rows of a model on topics matching `topic_like`, payloads parsed, oldest first."""
    found = await rows(
        database_url,
        "SELECT aggregatetype AS topic, type, payload FROM outbox WHERE aggregateid = $1 AND aggregatetype LIKE $2"
        " ORDER BY seq",
        registry_id,
        topic_like,
    )
    return [{**r, "payload": json.loads(r["payload"])} for r in found]
