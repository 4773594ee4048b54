"""The native local stack: a real Kafka broker and a real PostgreSQL, started, reused and stopped.

Runs on free ports in a temporary state dir so it never collides with another stack; the Kafka jars
come from the shared cache /work/main/.state/kafka/libs (resolved once with Maven if missing).
Timings are printed (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from devstack import (
    Infrastructure,
    PortInUseError,
    TopicSpec,
    TopicSpecError,
    Via,
    ensure_kafka_jars,
    ensure_topics,
    start_infrastructure,
    start_kafka,
    start_postgres,
    stop_infrastructure,
)
from devstack._proc import free_port
from devstack.containers import docker_available
from devstack.kafka_config import server_properties

pytestmark = pytest.mark.integration

SHARED_LIBS = Path(__file__).resolve().parents[2] / ".state" / "kafka" / "libs"
OVERRIDES = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "REGISTRY_USE_CONTAINERS")


@dataclass
class Stack:
    state_dir: Path
    ports: dict[str, int]
    infra: Infrastructure
    timings: dict[str, float] = field(default_factory=dict)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


@pytest.fixture(scope="module")
def native_env() -> Iterator[None]:
    """Point the jar cache at the shared folder and drop overrides that would bypass the native stack."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAFKA_LIBS_DIR", str(SHARED_LIBS))
        for name in OVERRIDES:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def stack(native_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("devstack")
    ensure_kafka_jars(state_dir)  # outside the timing: resolves only when the shared cache is empty
    kafka_port, controller_port, pg_port = _distinct_free_ports(3)
    ports = {"kafka": kafka_port, "controller": controller_port, "postgres": pg_port}
    started = time.monotonic()
    infra = start_infrastructure(
        state_dir, kafka_port=kafka_port, kafka_controller_port=controller_port, postgres_port=pg_port
    )
    result = Stack(state_dir=state_dir, ports=ports, infra=infra)
    result.timings["first_start_s"] = time.monotonic() - started
    try:
        yield result
    finally:
        stop_infrastructure(state_dir)
        print(f"\ndevstack timings: { {k: round(v, 2) for k, v in result.timings.items()} }")


def test_first_start_runs_native_kafka_and_postgres(stack: Stack) -> None:
    assert stack.infra.via is Via.NATIVE
    assert stack.infra.bootstrap_servers == f"127.0.0.1:{stack.ports['kafka']}"
    assert stack.infra.database_url == f"postgresql://postgres@127.0.0.1:{stack.ports['postgres']}/registry"
    assert _alive(stack.infra.kafka_pid)
    assert _alive(stack.infra.postgres_pid)
    assert (stack.state_dir / "logs" / "kafka.log").read_text().count("Kafka Server started") == 1
    assert (stack.state_dir / "logs" / "postgres.log").exists()


async def test_message_round_trip_through_created_topic(stack: Stack) -> None:
    topic = f"devstack.check.v1.{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(name=topic, partitions=3, retention_ms=3_600_000, configs={"cleanup.policy": "delete"})
    assert await ensure_topics(stack.infra.bootstrap_servers, [spec]) == [topic]
    assert await ensure_topics(stack.infra.bootstrap_servers, [spec]) == []  # existing topic left alone

    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, key=b"model-42", value=b'{"hello": "registry"}')
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.infra.bootstrap_servers,
        group_id=f"devstack-test-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"model-42", b'{"hello": "registry"}')
    assert (record.partition, record.offset) == (sent.partition, sent.offset)

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert len(described["partitions"]) == 3


async def test_postgres_answers_select_1(stack: Stack) -> None:
    connection = await asyncpg.connect(stack.infra.database_url)
    try:
        assert await connection.fetchval("select 1") == 1
        assert await connection.fetchval("select current_database()") == "registry"
        assert await connection.fetchval("show max_connections") == "200"
    finally:
        await connection.close()


def test_second_start_reuses_the_same_processes(stack: Stack) -> None:
    started = time.monotonic()
    again = start_infrastructure(
        stack.state_dir,
        kafka_port=stack.ports["kafka"],
        kafka_controller_port=stack.ports["controller"],
        postgres_port=stack.ports["postgres"],
    )
    stack.timings["second_start_reuse_s"] = time.monotonic() - started
    assert (again.kafka_pid, again.postgres_pid) == (stack.infra.kafka_pid, stack.infra.postgres_pid)
    assert again == stack.infra


async def test_producing_to_an_unknown_topic_fails(stack: Stack) -> None:
    unknown = f"devstack.typo.{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.bootstrap_servers, request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises(KafkaError):
            await producer.send_and_wait(unknown, b"lost?")
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.bootstrap_servers)
    await admin.start()
    try:
        assert unknown not in await admin.list_topics()
    finally:
        await admin.close()


def test_a_port_held_by_another_program_is_a_clear_error(native_env: None, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        with pytest.raises(PortInUseError, match=str(taken)):
            start_kafka(tmp_path / "k", port=taken, controller_port=free_port())
        with pytest.raises(PortInUseError, match=str(taken)):
            start_postgres(tmp_path / "p", port=taken)
    assert not (tmp_path / "k" / "kafka.pid").exists()
    assert not (tmp_path / "p" / "pgdata").exists()


def test_environment_overrides_start_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5432/registry")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    infra = start_infrastructure(tmp_path)
    assert infra == Infrastructure(
        bootstrap_servers="kafka.example:9092",
        database_url="postgresql://someone@db.example:5432/registry",
        via=Via.EXTERNAL,
    )
    handle = start_postgres(tmp_path)
    assert (handle.dsn, handle.external, handle.pid) == (infra.database_url, True, None)
    assert list(tmp_path.iterdir()) == []


def test_extra_properties_override_defaults_key_by_key(tmp_path: Path) -> None:
    props = server_properties(
        data_dir=tmp_path,
        port=1,
        controller_port=2,
        extra_properties={
            "listeners": "SASL_PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2",
            "x.flag": True,
        },
    )
    assert props["listeners"].startswith("SASL_PLAINTEXT://")
    assert props["x.flag"] == "true"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str(tmp_path.resolve())


@pytest.mark.parametrize(
    ("kwargs", "field_name"),
    [
        ({"name": "bad topic", "partitions": 1}, "name"),
        ({"name": "", "partitions": 1}, "name"),
        ({"name": "ok", "partitions": 0}, "partitions"),
        ({"name": "ok", "partitions": 1, "replication_factor": 0}, "replication_factor"),
        ({"name": "ok", "partitions": 1, "retention_ms": -2}, "retention_ms"),
        ({"name": "ok", "partitions": 1, "retention_ms": 5, "configs": {"retention.ms": "5"}}, "configs"),
    ],
)
def test_topic_spec_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field_name: str) -> None:
    with pytest.raises(TopicSpecError, match=f"^{field_name}:"):
        TopicSpec(**kwargs)  # type: ignore[arg-type]


def test_docker_check_answers_quickly_when_no_daemon_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert docker_available() is False
    assert time.monotonic() - started < 3


def test_containers_requested_without_docker_falls_back_to_native(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_USE_CONTAINERS", "1")
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    again = start_infrastructure(
        stack.state_dir,
        kafka_port=stack.ports["kafka"],
        kafka_controller_port=stack.ports["controller"],
        postgres_port=stack.ports["postgres"],
    )
    assert again == stack.infra  # native, and the very same processes


def test_stop_ends_both_processes(stack: Stack) -> None:
    """Runs last in this module: stops the stack the earlier tests shared."""
    started = time.monotonic()
    stopped = stop_infrastructure(stack.state_dir)
    stack.timings["stop_s"] = time.monotonic() - started
    assert stopped == {"containers": False, "kafka": True, "postgres": True}
    assert not _alive(stack.infra.kafka_pid)
    assert not _alive(stack.infra.postgres_pid)
    assert not (stack.state_dir / "kafka.pid").exists()
    assert stop_infrastructure(stack.state_dir) == {"containers": False, "kafka": False, "postgres": False}
