"""Transactional outbox: events are written with the state change that caused them, then relayed to Kafka.

`enqueue` runs inside the caller's transaction, so an event exists if and only if its state change committed.
`OutboxRelay` publishes unpublished rows in order (idempotent producer, acks=all), marks them published, and
retries what failed; a crash between publishing and marking re-publishes, which consumers' inboxes absorb.
Replicas of a service take turns batch by batch, so order holds with any number of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from registry_contracts import Envelope

from .db import take_turn
from .telemetry import Counters, current_trace_headers

log = logging.getLogger(__name__)

# Enqueues one message with the producer and returns the future of its acknowledgement.
Publisher = Callable[[str, bytes, bytes, dict[str, str]], Awaitable["asyncio.Future[Any]"]]


def notify_channel(schema: str) -> str:
    return f"outbox_{schema}"


async def enqueue(conn: asyncpg.Connection, *, topic: str, envelope: Envelope[Any]) -> None:
    """Add an event to the outbox in the caller's transaction, with the current trace context."""
    headers = {
        "ce_type": envelope.type,
        "ce_id": str(envelope.id),
        "content-type": "application/cloudevents+json",
        **current_trace_headers(),
    }
    # The NOTIFY wakes the owning service's relay at commit (it is transactional); polling is the fallback.
    # Topics are named <owner>.<stream>.v<major>, and the owner's schema is named after it.
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING 1) SELECT pg_notify($7, '') FROM added",
        envelope.id,
        topic,
        envelope.subject,
        envelope.type,
        envelope.model_dump_json(),
        json.dumps(headers),
        notify_channel(topic.split(".", 1)[0]),
    )


class OutboxRelay:
    """Publishes a schema's outbox rows to Kafka in order; one per process, any number of replicas.

    Replicas take turns: each batch runs under a transaction-level advisory lock per schema, so one relay at a
    time publishes and events leave in outbox order (per key, as consumers need) however many replicas run.
    Published rows are kept `retention_hours` (for inspection and replay), then deleted.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        publish: Publisher,
        *,
        schema: str,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        retention_hours: float = 168.0,
        counters: Counters | None = None,
    ) -> None:
        self._pool = pool
        self._publish = publish
        self._schema = schema
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._retention_hours = retention_hours
        self._wake = asyncio.Event()
        self._counters = counters or Counters()
        self._listener: asyncpg.Connection | None = None
        self._pruned_at = 0.0

    async def run(self) -> None:
        """Relay until cancelled. Errors are logged and retried with backoff; nothing is skipped."""
        await self._listen()
        backoff = self._poll_seconds
        while True:
            # Cleared before the batch, so a row committed while it runs wakes the next one at once.
            self._wake.clear()
            try:
                published = await self.relay_once()
                await self._prune_now_and_then()
                backoff = self._poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                published = 0
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if published < self._batch_size:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives as
                # the event is set, and the relay then never stopped (a hang at shutdown, seen in tests).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._wake.wait()

    async def close(self) -> None:
        """Give the LISTEN connection back to the pool (a pool waits for every connection on close)."""
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.remove_listener(notify_channel(self._schema), self._on_notify)
            await self._pool.release(listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        try:
            self._listener = await self._pool.acquire()
            await self._listener.add_listener(notify_channel(self._schema), self._on_notify)
        except Exception:  # polling still works without notifications
            log.warning("outbox relay could not LISTEN; falling back to polling", exc_info=True)

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows, oldest first; returns how many were published."""
        failed: list[int] = []
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                # Another replica's turn: it publishes these rows (in order); this one is woken again later.
                if not await take_turn(conn, f"outbox-relay:{self._schema}"):
                    return 0
                rows = await conn.fetch(
                    "SELECT seq, id, aggregatetype, aggregateid, payload, headers FROM outbox"
                    " WHERE published_at IS NULL ORDER BY seq LIMIT $1",
                    self._batch_size,
                )
                if not rows:
                    return 0
                failed = [r["seq"] for r in rows]
                await self._publish_all(rows)
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])",
                    failed,
                )
                failed = []
        except Exception as error:
            if failed:  # recorded outside the rolled-back transaction, so operators can see why
                await self._pool.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])",
                    failed,
                    repr(error)[:2000],
                )
                self._counters.add("outbox_publish_failures", len(failed))
            raise
        self._counters.add("outbox_published", len(rows))
        return len(rows)

    async def _prune_now_and_then(self) -> None:
        """Delete rows published longer ago than the retention, at most once a minute."""
        now = time.monotonic()
        if now - self._pruned_at < 60:
            return
        self._pruned_at = now
        status = await self._pool.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)", self._retention_hours * 3600
        )
        pruned = int(status.split()[-1])
        if pruned:
            self._counters.add("outbox_pruned", pruned)

    async def _publish_all(self, rows: Sequence[asyncpg.Record]) -> None:
        # Enqueued one by one, in order, then acknowledged together: the idempotent producer keeps
        # per-partition order across retries, and acks=all means acknowledged rows survive a broker loss.
        acknowledgements = []
        for row in rows:
            acknowledgements.append(
                await self._publish(
                    row["aggregatetype"],
                    row["aggregateid"].encode(),
                    row["payload"].encode(),
                    json.loads(row["headers"]),
                )
            )
        await asyncio.gather(*acknowledgements)


async def outbox_backlog(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
