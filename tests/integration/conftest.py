"""Fixtures shared by the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from devstack import Infrastructure
from services.plumbing.db import create_pool, migrate
from services.plumbing.service import PLUMBING_MIGRATIONS


@pytest.fixture
async def scratch_pool(infra: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh schema holding only the shared plumbing tables (outbox, inbox, audit log); dropped after."""
    schema = f"scratch_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(infra.database_url, schema=schema)
    await migrate(pool, schema=schema, directory=PLUMBING_MIGRATIONS, ledger="plumbing_migrations")
    yield pool
    await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()
