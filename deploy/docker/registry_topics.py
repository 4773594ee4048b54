"""Create the registry's Kafka topics on a production cluster: replication 3, min.insync.replicas 2.

Run once per deployment (compose's `topics` job, the Kubernetes `registry-topics` Job) with the same image
as the services, so the topics always match the contracts that image was built with. Existing topics are
left untouched (partitions and configs of a live topic are changed by an operator, deliberately).

    python deploy/docker/registry_topics.py --replication-factor 3 --min-insync-replicas 2 [--lab LAB_ID ...]

Connection settings are the services' own (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD); with SASL_SSL the broker's CA comes from SSL_CERT_FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from devstack.topics import TopicSpec, ensure_topics
from registry_contracts import ALL_TOPICS, TopicDefinition
from registry_contracts.events.evaluations import lab_request_topic, lab_result_topic

DEFAULT_REPLICATION_FACTOR = 3
DEFAULT_MIN_INSYNC_REPLICAS = 2


def topic_specs(
    topics: Iterable[TopicDefinition], *, replication_factor: int, min_insync_replicas: int
) -> list[TopicSpec]:
    """One spec per topic, durable: a write is acknowledged once `min_insync_replicas` replicas have it."""
    if not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError(
            f"min-insync-replicas must be between 1 and the replication factor ({replication_factor}), "
            f"got {min_insync_replicas}"
        )
    return [
        TopicSpec(
            name=topic.name,
            partitions=topic.partitions,
            replication_factor=replication_factor,
            retention_ms=topic.retention_ms,
            # never elect an out-of-sync replica: that silently drops acknowledged filings
            configs={"min.insync.replicas": str(min_insync_replicas), "unclean.leader.election.enable": "false"},
        )
        for topic in topics
    ]


def registry_topics(lab_ids: Sequence[str]) -> list[TopicDefinition]:
    """Every topic of the contracts, plus the request and result topics of each named lab."""
    labs = [definition for lab in lab_ids for definition in (lab_request_topic(lab), lab_result_topic(lab))]
    return [*ALL_TOPICS, *labs]


def client_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """Admin-client security options from the same variables the services read."""
    protocol = environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT") or "PLAINTEXT"
    if protocol == "PLAINTEXT":
        return {}
    if protocol not in {"SASL_PLAINTEXT", "SASL_SSL"}:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL: expected PLAINTEXT, SASL_PLAINTEXT or SASL_SSL, got {protocol}")
    options: dict[str, Any] = {
        "security_protocol": protocol,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": environ.get("KAFKA_SASL_USERNAME", ""),
        "sasl_plain_password": environ.get("KAFKA_SASL_PASSWORD", ""),
    }
    if protocol == "SASL_SSL":
        options["ssl_context"] = ssl.create_default_context()  # honours SSL_CERT_FILE
    return options


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Create the registry's Kafka topics (existing ones are kept).")
    parser.add_argument("--replication-factor", type=int, default=DEFAULT_REPLICATION_FACTOR)
    parser.add_argument("--min-insync-replicas", type=int, default=DEFAULT_MIN_INSYNC_REPLICAS)
    parser.add_argument("--lab", action="append", default=[], help="also create this lab's request/result topics")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for partition leaders")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if not bootstrap:
        print("registry_topics: KAFKA_BOOTSTRAP_SERVERS is not set", file=sys.stderr)
        return 2
    specs = topic_specs(
        registry_topics(args.lab),
        replication_factor=args.replication_factor,
        min_insync_replicas=args.min_insync_replicas,
    )
    created = asyncio.run(
        ensure_topics(bootstrap, specs, client_options=client_options(os.environ), leader_timeout=args.timeout)
    )
    print(f"registry_topics: {len(specs)} topics wanted, {len(created)} created: {', '.join(created) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
