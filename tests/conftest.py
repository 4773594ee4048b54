"""Session fixtures: the real Kafka and PostgreSQL the integration and end-to-end tests share.

Started once per test session, in .state/test on ports that do not collide with `./dev up`, wiped first so
every run starts clean. Tests isolate themselves by fresh ids, never by fresh topics or databases.
Set REGISTRY_KEEP_TEST_STACK=1 to leave the stack running after the session (faster local reruns).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import Infrastructure, TopicSpec, ensure_topics, start_infrastructure, stop_infrastructure
from devstack.services import auth_dir, stop_services
from registry_contracts import ALL_TOPICS
from services.plumbing.tokens import generate_keypair

ROOT = Path(__file__).resolve().parents[1]
TEST_STATE = ROOT / ".state" / "test"
TEST_PORTS = {"kafka_port": 29092, "kafka_controller_port": 29093, "postgres_port": 25432}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    os.environ.setdefault("KAFKA_LIBS_DIR", str(ROOT / ".state" / "kafka" / "libs"))
    keep = os.environ.get("REGISTRY_KEEP_TEST_STACK") == "1"
    if not keep:
        stop_services(TEST_STATE)
        stop_infrastructure(TEST_STATE)
        shutil.rmtree(TEST_STATE, ignore_errors=True)
    generate_keypair(auth_dir(TEST_STATE))  # the test token issuer; services started here trust it
    stack = start_infrastructure(TEST_STATE, **TEST_PORTS)
    specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
    asyncio.run(ensure_topics(stack.bootstrap_servers, specs))
    yield stack
    stop_services(TEST_STATE)
    if not keep:
        stop_infrastructure(TEST_STATE)
