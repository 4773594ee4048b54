"""Session fixtures: the real Kafka and PostgreSQL the integration and end-to-end tests share.

Started once per test session, in .state/test on ports that do not collide with `./dev up`, wiped first so
every run starts clean. Tests isolate themselves by fresh ids, never by fresh topics or databases.
Set REGISTRY_KEEP_TEST_STACK=1 to leave the stack running after the session (faster local reruns).
REGISTRY_TEST_STATE and REGISTRY_TEST_PORT_BASE (default 29000: Kafka 29092, PostgreSQL 29032, services
29101-29104) let two test sessions run side by side on one machine.
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
TEST_STATE = Path(os.environ.get("REGISTRY_TEST_STATE", ROOT / ".state" / "test")).resolve()
PORT_BASE = int(os.environ.get("REGISTRY_TEST_PORT_BASE", "29000"))
TEST_PORTS = {"kafka_port": PORT_BASE + 92, "kafka_controller_port": PORT_BASE + 93, "postgres_port": PORT_BASE + 32}
SERVICE_PORTS = {"intake": PORT_BASE + 101, "verification": PORT_BASE + 102, "evaluations": PORT_BASE + 103}
SERVICE_PORTS["enforcement"] = PORT_BASE + 104
KEPT_ACROSS_RUNS = {"auth", "intake"}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    os.environ.setdefault("KAFKA_LIBS_DIR", str(ROOT / ".state" / "kafka" / "libs"))
    keep = os.environ.get("REGISTRY_KEEP_TEST_STACK") == "1"
    if not keep:
        stop_services(TEST_STATE)
        stop_infrastructure(TEST_STATE)
        # Keys survive the wipe: test modules may have signed tokens with them at import time.
        for entry in TEST_STATE.glob("*"):
            if entry.name not in KEPT_ACROSS_RUNS:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
    generate_keypair(auth_dir(TEST_STATE))  # the test token issuer; services started here trust it
    stack = start_infrastructure(TEST_STATE, **TEST_PORTS)
    specs = [TopicSpec(name=t.name, partitions=t.partitions, retention_ms=t.retention_ms) for t in ALL_TOPICS]
    asyncio.run(ensure_topics(stack.bootstrap_servers, specs))
    yield stack
    stop_services(TEST_STATE)
    if not keep:
        stop_infrastructure(TEST_STATE)
