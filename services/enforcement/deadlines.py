"""Durable deadlines: developer response windows and future-dated actions, applied when due.

The deadlines live in the cases and actions tables, not in memory, so a restart loses none: each pass picks
up whatever is due (FOR UPDATE SKIP LOCKED lets replicas share the work without doing it twice).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import cast

import asyncpg

from services.plumbing.service import ServiceState

from . import store
from .casework import Cause, audit_change, publish_change, refresh_standing
from .domain import handle_response_deadline_passed
from .settings import EnforcementSettings

log = logging.getLogger(__name__)


async def apply_due_deadlines(pool: asyncpg.Pool, *, now: datetime) -> int:
    """Move cases whose response window closed to ready for decision, and apply actions that became
    effective; returns how many changes were made."""
    applied = 0
    async with pool.acquire() as conn, conn.transaction():
        for case, row_version in await store.due_response_cases(conn, now):
            change = handle_response_deadline_passed(case, now=now)
            if change is None:
                continue
            saved_version = await store.save_change(conn, change, expected_row_version=row_version)
            await publish_change(conn, change, now=now, cause=Cause.request())
            await audit_change(conn, change, row_version=saved_version)
            applied += 1
        for model_key, registry_id in await store.claim_due_actions(conn, now):
            await refresh_standing(conn, model_key, registry_id, now=now, cause=Cause.request())
            applied += 1
    return applied


async def response_deadlines(state: ServiceState) -> None:
    """Background job (service runtime): apply due deadlines every DEADLINE_POLL_SECONDS until cancelled."""
    settings = cast(EnforcementSettings, state.settings)
    while True:
        try:
            if applied := await apply_due_deadlines(state.db, now=datetime.now(UTC)):
                log.info("applied %d due deadline(s)", applied)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next pass retries: the deadlines are still in the tables
            log.exception("applying due deadlines failed; the next pass retries")
        await asyncio.sleep(settings.deadline_poll_seconds)
