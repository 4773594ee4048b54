"""Create the Kafka topics a stack needs (auto-create is off on our brokers, on purpose)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

# Kafka's own rule (org.apache.kafka.common.internals.Topic): legal chars, at most 249 of them
_LEGAL_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_NO_ERROR = 0


class TopicSpecError(ValueError):
    """A topic specification is invalid; the message names the field and the reason."""


class TopicCreationError(RuntimeError):
    """The broker refused to create a topic."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic to exist: its name, partitions, replication and topic-level configs.

    `retention_ms` of -1 keeps records forever; None leaves the broker default.
    `configs` holds any other topic config (e.g. {"cleanup.policy": "compact"}).
    """

    name: str
    partitions: int
    replication_factor: int = 1
    retention_ms: int | None = None
    configs: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _LEGAL_TOPIC_NAME.match(self.name) or self.name in {".", ".."}:
            raise TopicSpecError(f"name: {self.name!r} is not a legal Kafka topic name ([a-zA-Z0-9._-], 1-249)")
        if self.partitions < 1:
            raise TopicSpecError(f"partitions: must be at least 1, got {self.partitions} for {self.name}")
        if self.replication_factor < 1:
            raise TopicSpecError(
                f"replication_factor: must be at least 1, got {self.replication_factor} for {self.name}"
            )
        if self.retention_ms is not None and self.retention_ms < -1:
            raise TopicSpecError(f"retention_ms: must be -1 (forever) or >= 0, got {self.retention_ms}")
        if "retention.ms" in self.configs and self.retention_ms is not None:
            raise TopicSpecError(f"configs: retention.ms given twice for {self.name}; use retention_ms only")

    def topic_configs(self) -> dict[str, str]:
        """The topic-level configs sent to the broker."""
        configs = {key: str(value) for key, value in self.configs.items()}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


def _unique_specs(specs: Iterable[TopicSpec]) -> dict[str, TopicSpec]:
    by_name: dict[str, TopicSpec] = {}
    for spec in specs:
        earlier = by_name.get(spec.name)
        if earlier is not None and earlier != spec:
            raise TopicSpecError(f"name: {spec.name} is specified twice with different settings")
        by_name[spec.name] = spec
    return by_name


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], within_s: float) -> None:
    """Wait until every partition of `names` has a leader, so a producer can use them at once."""
    deadline = time.monotonic() + within_s
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(names)
        ready = {
            t["topic"]
            for t in described
            if t["error_code"] == _NO_ERROR and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if ready >= set(names):
            return
        if time.monotonic() >= deadline:
            raise TopicCreationError(f"topics without a leader after {within_s:.0f} s: {sorted(set(names) - ready)}")
        await asyncio.sleep(0.1)


async def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    client_options: Mapping[str, Any] | None = None,
    leader_timeout: float = 15.0,
) -> list[str]:
    """Create the topics of `specs` that do not exist yet; leave existing ones untouched.

    Returns the names this call created (sorted). A topic another process creates concurrently
    counts as existing. `client_options` go to AIOKafkaAdminClient (e.g. SASL settings).
    Raises TopicSpecError for contradictory specs, TopicCreationError when the broker refuses one.
    """
    wanted = _unique_specs(specs)
    if not wanted:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **dict(client_options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in sorted(wanted.items()) if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=spec.topic_configs(),
                )
                for spec in missing
            ]
        )
        created: list[str] = []
        failures: list[str] = []
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            message = topic_error[2] if len(topic_error) > 2 else None
            if code == _NO_ERROR:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                failures.append(f"{name}: {for_code(code).__name__} {message or ''}".strip())
        if failures:
            raise TopicCreationError("broker refused topics: " + "; ".join(failures))
        if created:
            await _wait_for_leaders(admin, created, leader_timeout)
        return sorted(created)
    finally:
        await admin.close()
