"""Helpers for intake's component tests: one running intake app with keys, and filing bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from devstack import Infrastructure
from services.intake.app import create_app
from services.intake.keys import new_restricted_key
from services.intake.settings import IntakeSettings
from tests.support import bearer, fresh_organisation, registration, service_settings

CLEARED_OFFICER = "officer-cleared"
RESTRICTED_KEY = new_restricted_key()


def intake_app(infra: Infrastructure, tmp_dir: Any, **overrides: Any) -> Any:
    settings = service_settings(
        IntakeSettings,
        infra,
        intake_restricted_key=RESTRICTED_KEY,
        intake_signing_key_file=str(tmp_dir / "signing.pem"),
        intake_restricted_readers=CLEARED_OFFICER,
        **overrides,
    )
    return create_app(settings)


def registrant(org: dict[str, str] | str) -> dict[str, str]:
    return bearer("registrant", org=org if isinstance(org, str) else org["organisation_id"])


def cleared_officer() -> dict[str, str]:
    return bearer("officer", subject=CLEARED_OFFICER)


def full_registration(organisation: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
    """A registration with every field of the record filled in."""
    body = registration(organisation=organisation)
    body["compute"] |= {
        "chip_type": "H100 SXM",
        "chip_count": 16_000,
        "training_hours": 1_000,
        "declared_utilisation": 0.38,
        "training_start": "2025-01-01",
        "training_end": "2025-03-01",
    }
    body |= {
        "contact": "registry@example.org",
        "organisation_details": {"affiliates": ["Parent Corp"], "annual_revenue_usd": 2e9},
        "model_version": "1.0",
        "intended_uses": ["assistant"],
        "acceptable_use_policy": "https://example.org/aup",
        "modalities": ["text"],
        "context_window_tokens": 128_000,
        "licence": "proprietary",
        "release_date": "2026-06-01",
        "access_mode": "api",
        "architecture_class": "dense",
        "architecture_details": "decoder-only transformer, 80 layers",
        "training_data": {
            "token_count": 15e12,
            "modalities": ["text"],
            "sources_summary": "licensed books, web crawl",
            "public_summary": "public web text and licensed data",
        },
        "energy_kwh": 2.1e7,
        "evaluations": {"results": "cyber: 12% solve rate", "summary": "no dangerous capability found"},
        "red_teaming": "two external teams, 6 weeks",
        "security_of_weights": "weights in HSM-backed enclave, 3 people hold access",
    }
    return body | changes


def training_notice(organisation: dict[str, str], *, crossed_days_ago: int | None = None) -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "developer": organisation,
        "model_family": f"family-{uuid.uuid4().hex[:6]}",
        "planned_training_flop": 3e25,
        "chip_type": "H100 SXM",
        "chip_count": 20_000,
        "planned_start": str(today - timedelta(days=40)),
        "planned_end": str(today + timedelta(days=40)),
    }
    if crossed_days_ago is not None:
        body["threshold_crossed_on"] = str(today - timedelta(days=crossed_days_ago))
    return body


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def intake_rows(infra: Infrastructure, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(infra.database_url, server_settings={"search_path": "intake"})
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def events_about(infra: Infrastructure, subject: str) -> list[str]:
    """Event types intake queued (outbox) for one subject, in order."""
    rows = await intake_rows(infra, "SELECT type FROM outbox WHERE aggregateid = $1 ORDER BY seq", subject)
    return [r["type"].split(".")[2] for r in rows]


__all__ = ["fresh_organisation"]
