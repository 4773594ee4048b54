"""PostgreSQL access: a connection pool bound to the service's own schema, and numbered SQL migrations."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same for every replica of every service.
MIGRATION_LOCK_KEY = 0x5245_4749  # "REGI"


async def create_pool(database_url: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see only `schema` (and public) unqualified."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        server_settings={"search_path": f"{schema},public", "application_name": f"registry-{schema}"},
    )
    assert pool is not None
    return pool


def migration_files(directory: Path) -> list[tuple[int, Path]]:
    """Numbered migrations in order; a badly named file fails loudly rather than being skipped."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration {path} must be named NNN_lower_snake.sql")
        found.append((int(match.group(1)), path))
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations in {directory} must be numbered 001, 002, ... without gaps: {numbers}")
    return found


async def migrate(pool: asyncpg.Pool, *, schema: str, directory: Path, ledger: str = "schema_migrations") -> list[int]:
    """Apply pending migrations of one schema, each in its own transaction; returns the applied numbers.

    An advisory lock serialises replicas that start at the same time.
    """
    applied_now: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".{ledger} ('
                " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".{ledger}')}
            for number, path in migration_files(directory):
                if number in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute(
                        f'INSERT INTO "{schema}".{ledger} (version, name) VALUES ($1, $2)',
                        number,
                        path.name,
                    )
                applied_now.append(number)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now


async def hold_lock(conn: asyncpg.Connection, name: str) -> None:
    """Wait for the advisory lock named `name`, then hold it until this transaction ends (across every replica):
    transactions on the same name run one after another."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)


async def take_turn(conn: asyncpg.Connection, job: str) -> bool:
    """Whether this transaction may do `job` now: one transaction at a time across every replica (a
    transaction-level advisory lock, released at commit). Callers that lose simply try again later."""
    key = int.from_bytes(hashlib.blake2b(job.encode(), digest_size=8).digest()) >> 1  # a stable 63-bit key
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))
