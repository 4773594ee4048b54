"""The audit log: every filing, decision and confidential read, append-only and hash-chained.

`record` appends an entry in the caller's transaction (or on its own); `AuditChainer` links entries into the
chain in the background, one replica at a time, and now and then publishes the chain's head on the service's
audit-anchor topic; `verify_chain` recomputes the chain, names the first entry that does not match, and checks
an anchor against it. The table and its append-only trigger: plumbing migration 002.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from registry_contracts import AuditAnchored, audit_anchor_topic, new_envelope

from .db import take_turn
from .outbox import enqueue

log = logging.getLogger(__name__)
GENESIS = bytes(32)  # the "previous hash" of the first entry


def canonical_entry(entry: Mapping[str, Any], position: int) -> bytes:
    """The bytes an entry's hash covers: every recorded field and its place, as sorted, compact JSON."""
    detail = entry["detail"]
    recorded_at: datetime = entry["recorded_at"]
    document = {
        "seq": entry["seq"],
        "position": position,
        "recorded_at": recorded_at.isoformat(),
        "actor": entry["actor"],
        "action": entry["action"],
        "subject": entry["subject"],
        "detail": json.loads(detail) if isinstance(detail, str) else detail,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(previous: bytes, entry: Mapping[str, Any], position: int) -> bytes:
    return hashlib.sha256(previous + canonical_entry(entry, position)).digest()


async def record(
    db: asyncpg.Connection | asyncpg.Pool,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append an entry (inside the caller's transaction when given a connection in one)."""
    await db.execute(
        "INSERT INTO audit_log (actor, action, subject, detail) VALUES ($1, $2, $3, $4::jsonb)",
        actor,
        action,
        subject,
        json.dumps(dict(detail or {}), default=str),
    )


class AuditChainer:
    """Gives unchained entries their place and hash, in batches, one replica at a time (advisory lock); and,
    at most every `anchor_seconds`, publishes where the chain stands (AuditAnchored, through the outbox) so the
    newest entries cannot be removed unnoticed either."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        anchor_seconds: float = 60.0,
    ) -> None:
        self._pool = pool
        self._service = schema
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._anchor_seconds = anchor_seconds
        self._anchored_position = 0
        self._anchored_at = -math.inf
        self._job = f"audit-chain:{schema}"

    async def chain_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await take_turn(conn, self._job):
                return 0
            rows = await conn.fetch(
                "SELECT seq, recorded_at, actor, action, subject, detail FROM audit_log"
                " WHERE position IS NULL ORDER BY seq LIMIT $1",
                self._batch_size,
            )
            last = await conn.fetchrow(
                "SELECT position, entry_hash FROM audit_log WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
            )
            position, previous = (last["position"], bytes(last["entry_hash"])) if last else (0, GENESIS)
            placed = []
            for row in rows:
                position += 1
                previous = entry_hash(previous, row, position)
                placed.append((row["seq"], position, previous))
            if placed:
                await conn.executemany("UPDATE audit_log SET position = $2, entry_hash = $3 WHERE seq = $1", placed)
            if position > self._anchored_position and time.monotonic() - self._anchored_at >= self._anchor_seconds:
                await self._anchor(conn, position, previous)
            return len(rows)

    async def _anchor(self, conn: asyncpg.Connection, position: int, head_hash: bytes) -> None:
        anchored = AuditAnchored(
            service=self._service, position=position, entry_hash=head_hash.hex(), anchored_at=datetime.now(UTC)
        )
        envelope = new_envelope(anchored, subject=self._service)
        await enqueue(conn, topic=audit_anchor_topic(self._service).name, envelope=envelope)
        self._anchored_position, self._anchored_at = position, time.monotonic()

    async def run(self) -> None:
        """Chain until cancelled; failures are logged and retried (entries wait unchained, never lost)."""
        while True:
            try:
                chained = await self.chain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("audit chaining failed; retrying")
                chained = 0
            if chained < self._batch_size:
                await asyncio.sleep(self._poll_seconds)


async def verify_chain(
    pool: asyncpg.Pool, *, batch_size: int = 5000, anchor: tuple[int, str] | None = None
) -> dict[str, Any]:
    """Recompute every chained entry's hash in order; report the first that does not match (or a gap).

    `anchor` (position, hex hash), as published on the service's audit-anchor topic: the chain must still hold
    that entry with that hash, or entries up to it were removed or rewritten since it was published.
    """
    previous, expected, checked = GENESIS, 1, 0
    while True:
        rows = await pool.fetch(
            "SELECT seq, position, recorded_at, actor, action, subject, detail, entry_hash FROM audit_log"
            " WHERE position >= $1 ORDER BY position LIMIT $2",
            expected,
            batch_size,
        )
        for row in rows:
            if row["position"] != expected or entry_hash(previous, row, expected) != bytes(row["entry_hash"]):
                return {"intact": False, "entries_checked": checked, "first_broken_position": expected}
            previous, expected, checked = bytes(row["entry_hash"]), expected + 1, checked + 1
        if len(rows) < batch_size:
            break
    unchained = await pool.fetchval("SELECT count(*) FROM audit_log WHERE position IS NULL")
    answer: dict[str, Any] = {
        "intact": True,
        "entries_checked": checked,
        "first_broken_position": None,
        "unchained": unchained,
    }
    if anchor is not None:
        position, anchored_hash = anchor
        held = await pool.fetchval("SELECT encode(entry_hash, 'hex') FROM audit_log WHERE position = $1", position)
        matches = held is not None and hmac.compare_digest(held, anchored_hash.lower())
        answer["anchor"] = {"position": position, "found": held is not None, "matches": matches}
        answer["intact"] = matches
    return answer


async def recent(pool: asyncpg.Pool, *, subject: str | None, action: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest entries, optionally for one subject or action prefix."""
    rows = await pool.fetch(
        "SELECT seq, position, recorded_at, actor, action, subject, detail, encode(entry_hash, 'hex') AS entry_hash"
        " FROM audit_log WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR action LIKE $2 || '%')"
        " ORDER BY seq DESC LIMIT $3",
        subject,
        action,
        limit,
    )
    return [dict(r) | {"detail": json.loads(r["detail"])} for r in rows]
