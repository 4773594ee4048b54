"""Upgrading a running registry: intake's migration 003 carries the old per-year counters into sequences."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from devstack import Infrastructure
from services.plumbing.db import create_pool, migrate

pytestmark = pytest.mark.component
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "intake" / "migrations"


async def test_numbers_carry_on_from_the_counters_of_an_existing_registry(
    infra: Infrastructure, tmp_path: Path
) -> None:
    schema = f"intake_upgrade_{uuid.uuid4().hex[:8]}"  # a schema of its own, dropped at the end
    for migration in ("001_registrations.sql", "002_filings_standing.sql"):
        shutil.copy(MIGRATIONS / migration, tmp_path / migration)
    pool = await create_pool(infra.database_url, schema=schema, max_size=2)
    try:
        assert await migrate(pool, schema=schema, directory=tmp_path) == [1, 2]
        await pool.execute("INSERT INTO registry_id_sequences (year, last_value) VALUES (2025, 41), (2026, 7)")
        await pool.execute("INSERT INTO filing_sequences (prefix, year, last_value) VALUES ('TN', 2026, 3)")
        assert await migrate(pool, schema=schema, directory=MIGRATIONS) == [3, 4]
        assert await pool.fetchval("SELECT next_number('registry', 2025)") == 42
        assert await pool.fetchval("SELECT next_number('registry', 2026)") == 8
        assert await pool.fetchval("SELECT next_number('TN', 2026)") == 4
        assert await pool.fetchval("SELECT next_number('TN', 2027)") == 1
        with pytest.raises(asyncpg.UndefinedTableError):
            await pool.execute("SELECT * FROM registry_id_sequences")
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
