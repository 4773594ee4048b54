"""The audit log: appended without locks, chained in order by one chainer at a time, append-only, and any
rewritten entry found by verification."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack import Infrastructure
from registry_contracts import AuditAnchored, Envelope, audit_anchor_topic, new_envelope
from services.plumbing import audit
from services.plumbing.inbox import IncomingMessage
from services.plumbing.service import ServiceState
from services.verification.app import create_app as verification_app
from services.verification.settings import VerificationSettings
from tests.component import verification_support as filings
from tests.support import bearer, eventually, running, service_settings

pytestmark = pytest.mark.integration


async def _record_many(pool: asyncpg.Pool, count: int, prefix: str) -> None:
    await asyncio.gather(
        *(
            audit.record(pool, actor=f"officer-{n % 3}", action="read.confidential", subject=f"{prefix}-{n}")
            for n in range(count)
        )
    )


async def test_entries_are_chained_in_order_by_one_chainer_at_a_time(scratch_pool: asyncpg.Pool) -> None:
    pool = scratch_pool
    await _record_many(pool, 60, "first")
    chainers = [audit.AuditChainer(pool, schema="shared", batch_size=7) for _ in range(3)]

    async def drain(chainer: audit.AuditChainer) -> None:
        while await pool.fetchval("SELECT count(*) FROM audit_log WHERE position IS NULL"):
            await chainer.chain_once()

    await asyncio.gather(*(drain(c) for c in chainers))
    await _record_many(pool, 5, "later")
    await drain(chainers[0])
    rows = await pool.fetch("SELECT seq, position FROM audit_log ORDER BY position")
    assert [r["position"] for r in rows] == list(range(1, 66))
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)  # each found in order, none skipped
    assert await audit.verify_chain(pool) == {
        "intact": True,
        "entries_checked": 65,
        "first_broken_position": None,
        "unchained": 0,
    }


async def test_the_log_refuses_changes_and_verification_finds_a_rewritten_entry(scratch_pool: asyncpg.Pool) -> None:
    pool = scratch_pool
    await audit.record(pool, actor="alice", action="filing.registration", subject="FMR-2026-000001")
    await audit.record(pool, actor="bob", action="decision.notice_issued", subject="ENF-2026-000001")
    await audit.record(pool, actor="carol", action="read.restricted", subject="FMR-2026-000001/v1")
    await audit.AuditChainer(pool, schema="tamper").chain_once()
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE position = 2",
        "UPDATE audit_log SET entry_hash = '\\x00' WHERE position = 2",
        "DELETE FROM audit_log WHERE position = 3",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pool.execute(statement)

    # Someone with the power to switch the guard off rewrites history: the chain shows where.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE position = 2")
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    report = await audit.verify_chain(pool)
    assert report["intact"] is False and report["first_broken_position"] == 2 and report["entries_checked"] == 1


async def test_a_removed_entry_breaks_the_chain_where_it_was(scratch_pool: asyncpg.Pool) -> None:
    pool = scratch_pool
    for n in range(4):
        await audit.record(pool, actor="alice", action="filing.registration", subject=f"FMR-{n}")
    await audit.AuditChainer(pool, schema="gap").chain_once()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("DELETE FROM audit_log WHERE position = 2")
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    assert (await audit.verify_chain(pool))["first_broken_position"] == 2


async def _anchors(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT aggregatetype AS topic, payload FROM outbox ORDER BY seq")
    return [{"topic": r["topic"], **json.loads(r["payload"])["data"]} for r in rows]


async def test_the_chain_head_is_anchored_now_and_then_and_a_removed_tail_is_found(scratch_pool: asyncpg.Pool) -> None:
    pool = scratch_pool
    for n in range(5):
        await audit.record(pool, actor="alice", action="filing.registration", subject=f"FMR-{n}")
    chainer = audit.AuditChainer(pool, schema="anchored", anchor_seconds=3600)
    await chainer.chain_once()
    [anchor] = await _anchors(pool)
    head = await pool.fetchval("SELECT encode(entry_hash, 'hex') FROM audit_log WHERE position = 5")
    assert anchor == {
        "topic": "anchored.audit-anchors.v1",
        "service": "anchored",
        "position": 5,
        "entry_hash": head,
        "anchored_at": anchor["anchored_at"],
    }
    await audit.record(pool, actor="alice", action="filing.amendment", subject="FMR-0")
    await chainer.chain_once()
    assert len(await _anchors(pool)) == 1  # not again within anchor_seconds
    assert (await audit.verify_chain(pool, anchor=(5, head)))["intact"] is True

    # The newest entries removed: the shorter chain still verifies by itself; the anchor shows what is missing.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("DELETE FROM audit_log WHERE position >= 4")
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    assert (await audit.verify_chain(pool))["intact"] is True
    report = await audit.verify_chain(pool, anchor=(5, head))
    assert report["intact"] is False and report["anchor"] == {"position": 5, "found": False, "matches": False}
    assert (await audit.verify_chain(pool, anchor=(3, "0" * 64)))["anchor"]["matches"] is False


async def test_anchors_reach_kafka_and_verify_against_the_service(infra: Infrastructure) -> None:
    app = verification_app(service_settings(VerificationSettings, infra, audit_anchor_seconds=0.1))
    topic = audit_anchor_topic("verification").name
    reader = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap_servers, enable_auto_commit=False)
    await reader.start()
    try:
        partition = TopicPartition(topic, 0)
        reader.assign([partition])
        await reader.seek_to_end(partition)
        await reader.position(partition)
        async with running(app) as (client,):
            state: ServiceState = app.state.service
            assert state.consumer is not None
            registration = filings.registration(filings.developer())
            filing = new_envelope(registration, subject=registration.registry_id)
            await state.consumer.process(
                IncomingMessage(
                    topic="intake.filings.v1",
                    partition=0,
                    offset=0,
                    key=filing.subject.encode(),
                    value=filing.model_dump_json().encode(),
                    headers={},
                )
            )
            position = await eventually(
                lambda: state.db.fetchval(
                    "SELECT position FROM audit_log WHERE subject = $1 AND position IS NOT NULL", filing.subject
                ),
                what="the verdict's audit entry to be chained",
            )

            async def anchored_past_it() -> AuditAnchored | None:
                for record in (await reader.getmany(timeout_ms=500)).get(partition, []):
                    anchor = Envelope[AuditAnchored].model_validate_json(record.value or b"").data
                    if anchor.position >= position:
                        return anchor
                return None

            anchor = await eventually(anchored_past_it, what="an anchor at or past the entry on Kafka")
            assert anchor.service == "verification"
            analyst = bearer("analyst")
            query: dict[str, str | int] = {"position": anchor.position, "entry_hash": anchor.entry_hash}
            verified = (await client.get("/v1/audit/verify", params=query, headers=analyst)).json()
            assert verified["intact"] is True and verified["anchor"]["matches"] is True
            forged = (
                await client.get("/v1/audit/verify", params=query | {"entry_hash": "a" * 64}, headers=analyst)
            ).json()
            assert forged["intact"] is False
            half = await client.get("/v1/audit/verify", params={"position": 1}, headers=analyst)
            assert half.status_code == 422
    finally:
        await reader.stop()
