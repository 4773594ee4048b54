"""The audit log: appended without locks, chained in order by one chainer at a time, append-only, and any
rewritten entry found by verification."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.plumbing import audit

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
