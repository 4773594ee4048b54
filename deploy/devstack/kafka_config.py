"""The broker's configuration files: server.properties and a log4j2 config (pure text builders)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devstack._proc import LOOPBACK

PropertyValue = str | int | bool


def server_properties(
    *,
    data_dir: Path,
    port: int,
    controller_port: int,
    extra_properties: Mapping[str, PropertyValue] | None = None,
) -> dict[str, str]:
    """The broker's settings: a PLAINTEXT client listener and a CONTROLLER listener on loopback.

    `extra_properties` override or extend these, key by key, so a SASL/SCRAM client listener can be
    added later by replacing `listeners`, `advertised.listeners`, `listener.security.protocol.map`
    and `inter.broker.listener.name` and adding the `sasl.*` / authorizer keys.
    """
    props: dict[str, str] = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{controller_port}",
        "log.dirs": str(data_dir.resolve()),
        "num.partitions": "1",
        # one broker: every internal topic must be satisfiable by a single replica
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        # 50 (default) partitions make the first consumer group join noticeably slower on 2 cores
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # tests: a new consumer group should not wait 3 s; a mistyped topic must fail loudly
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        # small machine: the cleaner's default 128 MiB buffer is allocated on the heap at start
        "log.cleaner.dedupe.buffer.size": "33554432",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        # after a kill -9 the restarted broker waits out its old registration's session: 9 s by default
        "broker.session.timeout.ms": "6000",
        "broker.heartbeat.interval.ms": "1000",
    }
    for key, value in (extra_properties or {}).items():
        props[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return props


def render_properties(props: Mapping[str, str]) -> str:
    """Java .properties text for `props` (backslashes and line breaks escaped)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("\n", "\\n")

    return "".join(f"{escape(k)}={escape(v)}\n" for k, v in props.items())


def log4j2_properties(log_file: Path) -> str:
    """A log4j2 config sending everything to one file and nothing to the console."""
    return "\n".join(
        [
            "status = warn",
            "name = devstack-kafka",
            "appender.file.type = File",
            "appender.file.name = FILE",
            f"appender.file.fileName = {log_file.resolve()}",
            "appender.file.append = true",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRefs = file",
            "rootLogger.appenderRef.file.ref = FILE",
            # request logging at INFO/DEBUG floods the file; warnings still show
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "",
        ]
    )
