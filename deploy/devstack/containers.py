"""Kafka and PostgreSQL in Docker containers (testcontainers), for machines where a daemon answers.

Containers live as long as the process that started them (testcontainers' Ryuk reaper removes
them when it exits), unlike the native stack, which outlives its starter and is reused.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:18"
DOCKER_PING_TIMEOUT = 2.0
KAFKA_START_TIMEOUT = 120.0
_KAFKA_CLIENT_PORT = 9092
_STARTER_SCRIPT = "/tmp/devstack_start.sh"
_STARTER_READY = "/tmp/devstack_start.ready"


def docker_available(timeout: float = DOCKER_PING_TIMEOUT) -> bool:
    """True when a Docker daemon answers a ping within `timeout` seconds (honours DOCKER_HOST)."""
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout)))
    except Exception:  # no socket, bad DOCKER_HOST, package missing: all mean "unavailable"
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _apache_kafka_container(image: str) -> Any:
    """A KRaft single-node container of the apache/kafka image.

    testcontainers' KafkaContainer drives confluentinc/cp-kafka's scripts (/etc/confluent/docker)
    and its with_kraft() rejects tags below 7.0.0, so it cannot run apache/kafka:4.x. This follows
    testcontainers-java's KafkaContainer for apache/kafka instead: the container waits for a start
    script, which is written once the mapped host port (needed in advertised.listeners) is known.
    """
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    class ApacheKafkaContainer(DockerContainer):
        def __init__(self) -> None:
            super().__init__(image)
            self.with_exposed_ports(_KAFKA_CLIENT_PORT)
            env = {
                "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": f"PLAINTEXT://:{_KAFKA_CLIENT_PORT},BROKER://:9093,CONTROLLER://:9094",
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": ("BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                # the image's default voter list points at port 29093; ours listens on 9094
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9094",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
                "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
                "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            }
            for key, value in env.items():
                self.with_env(key, value)
            self.with_command(
                ["sh", "-c", f"while [ ! -f {_STARTER_READY} ]; do sleep 0.1; done; sh {_STARTER_SCRIPT}"]
            )

        def start(self) -> ApacheKafkaContainer:
            super().start()
            hostname = self.get_wrapped_container().attrs["Config"]["Hostname"]
            advertised = f"PLAINTEXT://{self.bootstrap_servers()},BROKER://{hostname}:9093"
            script = f"#!/bin/bash\nexport KAFKA_ADVERTISED_LISTENERS={advertised}\nexec /etc/kafka/docker/run\n"
            self.copy_into_container(script.encode(), _STARTER_SCRIPT, 0o755)
            # a separate flag file, so the loop never runs a script still being written
            self.copy_into_container(b"", _STARTER_READY)
            waiter = LogMessageWaitStrategy("Kafka Server started")
            waiter.with_startup_timeout(int(KAFKA_START_TIMEOUT))
            waiter.wait_until_ready(self)
            return self

        def bootstrap_servers(self) -> str:
            return f"{self.get_container_host_ip()}:{self.get_exposed_port(_KAFKA_CLIENT_PORT)}"

    return ApacheKafkaContainer()


@dataclass(frozen=True)
class ContainerStack:
    """Running containers and the addresses clients use."""

    bootstrap_servers: str
    database_url: str
    kafka: Any
    postgres: Any


_STACKS: dict[Path, ContainerStack] = {}
_STACKS_LOCK = threading.Lock()


def start_containers(
    state_dir: Path,
    *,
    kafka: bool = True,
    postgres: bool = True,
    kafka_image: str = KAFKA_IMAGE,
    postgres_image: str = POSTGRES_IMAGE,
) -> ContainerStack:
    """Start the Kafka and/or PostgreSQL containers (or return those this process started for `state_dir`).

    Kafka and PostgreSQL start in parallel threads. Callers check docker_available() first; a
    missing daemon surfaces here as docker's own error. A part not requested has an empty address.
    """
    key = state_dir.resolve()
    with _STACKS_LOCK:
        if key in _STACKS:
            return _STACKS[key]
    from testcontainers.community.postgres import PostgresContainer

    wanted: list[Any] = []
    pg_container = None
    kafka_container = None
    if postgres:
        pg_container = PostgresContainer(postgres_image, username="postgres", password="postgres", dbname="registry")
        wanted.append(pg_container)
    if kafka:
        kafka_container = _apache_kafka_container(kafka_image)
        wanted.append(kafka_container)
    errors: list[BaseException] = []

    def start(container: Any) -> None:
        try:
            container.start()
        except BaseException as exc:  # re-raised below in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(c,), daemon=True) for c in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for container in wanted:
            with contextlib.suppress(Exception):
                container.stop()
        raise errors[0]
    stack = ContainerStack(
        bootstrap_servers=kafka_container.bootstrap_servers() if kafka_container is not None else "",
        database_url=pg_container.get_connection_url(driver=None) if pg_container is not None else "",
        kafka=kafka_container,
        postgres=pg_container,
    )
    with _STACKS_LOCK:
        _STACKS[key] = stack
    return stack


def stop_containers(state_dir: Path) -> bool:
    """Remove the containers this process started for `state_dir`; True when there were some."""
    with _STACKS_LOCK:
        stack = _STACKS.pop(state_dir.resolve(), None)
    if stack is None:
        return False
    for container in (stack.kafka, stack.postgres):
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()
    return True
