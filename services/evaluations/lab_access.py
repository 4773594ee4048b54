"""Onboarding a lab on Kafka: its request and result topics and, with SASL, its own user and ACLs.

Topics are created with aiokafka's admin client (PLAINTEXT or SASL). SCRAM users and ACLs need calls
aiokafka lacks, so they use confluent-kafka's AdminClient (imported only when Kafka uses SASL). Everything
here is idempotent: onboarding the same lab twice changes nothing but, when asked, the lab's password.

A lab's principal `lab-<lab_id>` may READ (and DESCRIBE) only its request topic with only its consumer
group, and WRITE (and DESCRIBE) only its result topic. Nothing else: `allow.everyone.if.no.acl.found` is
false on the broker.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from registry_contracts.events.evaluations import lab_consumer_group, lab_request_topic, lab_result_topic

from .settings import EvaluationsSettings

_NO_ERROR = 0


class LabProvisioningError(RuntimeError):
    """Kafka refused to create a lab's topics, user or ACLs."""


@dataclass(frozen=True)
class LabKafkaAccess:
    """What a lab needs to connect: where, as whom, and which topics and group it may use."""

    lab_id: str
    bootstrap_servers: str
    security_protocol: str
    request_topic: str
    result_topic: str
    consumer_group: str
    principal: str | None = None
    password: str | None = None  # only in the answer that created or rotated it; never stored

    def as_json(self) -> dict[str, Any]:
        answer = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "sasl_mechanism": "SCRAM-SHA-512" if self.principal else None,
            "request_topic": self.request_topic,
            "result_topic": self.result_topic,
            "consumer_group": self.consumer_group,
            "username": self.principal,
        }
        if self.password is not None:
            answer["password"] = self.password
        return answer


def lab_principal(lab_id: str) -> str:
    return f"lab-{lab_id}"


def lab_access(settings: EvaluationsSettings, lab_id: str, *, password: str | None = None) -> LabKafkaAccess:
    """The lab's connection details (without provisioning anything)."""
    return LabKafkaAccess(
        lab_id=lab_id,
        bootstrap_servers=settings.lab_kafka_bootstrap_servers or settings.kafka_bootstrap_servers,
        security_protocol=settings.kafka_security_protocol.upper(),
        request_topic=lab_request_topic(lab_id).name,
        result_topic=lab_result_topic(lab_id).name,
        consumer_group=lab_consumer_group(lab_id),
        principal=lab_principal(lab_id) if settings.kafka_uses_sasl else None,
        password=password,
    )


async def ensure_lab_topics(settings: EvaluationsSettings, lab_ids: list[str]) -> list[str]:
    """Create the request and result topics of `lab_ids` that do not exist yet; returns those created."""
    definitions = [d for lab_id in lab_ids for d in (lab_request_topic(lab_id), lab_result_topic(lab_id))]
    if not definitions:
        return []
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        client_id="registry-evaluations-admin",
        **settings.kafka_client_options(admin=True),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [d for d in definitions if d.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=d.name,
                    num_partitions=d.partitions,
                    replication_factor=settings.lab_topic_replication_factor,
                    topic_configs={"retention.ms": str(d.retention_ms)},
                )
                for d in missing
            ]
        )
        failures = [
            f"{error[0]}: error {error[1]} {error[2] if len(error) > 2 else ''}".strip()
            for error in response.topic_errors
            if error[1] not in (_NO_ERROR, TopicAlreadyExistsError.errno)
        ]
        if failures:
            raise LabProvisioningError("Kafka refused lab topics: " + "; ".join(failures))
        return sorted(d.name for d in missing)
    finally:
        await admin.close()


async def ensure_lab_principal(settings: EvaluationsSettings, lab_id: str, *, new_password: bool) -> str | None:
    """With SASL: grant the lab's ACLs, and set a fresh SCRAM password when asked; returns that password."""
    if not settings.kafka_uses_sasl:
        return None
    password = secrets.token_urlsafe(24) if new_password else None
    await asyncio.to_thread(_provision_principal_blocking, settings, lab_id, password)
    return password


def lab_acl_bindings(lab_id: str) -> list[Any]:
    """The lab's ACLs: read its requests with its group, write its results; nothing else."""
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType

    principal = f"User:{lab_principal(lab_id)}"

    def allow(kind: Any, name: str, operation: Any) -> Any:
        return AclBinding(kind, name, ResourcePatternType.LITERAL, principal, "*", operation, AclPermissionType.ALLOW)

    requests, results = lab_request_topic(lab_id).name, lab_result_topic(lab_id).name
    return [
        allow(ResourceType.TOPIC, requests, AclOperation.READ),
        allow(ResourceType.TOPIC, requests, AclOperation.DESCRIBE),
        allow(ResourceType.GROUP, lab_consumer_group(lab_id), AclOperation.READ),
        allow(ResourceType.TOPIC, results, AclOperation.WRITE),
        allow(ResourceType.TOPIC, results, AclOperation.DESCRIBE),
    ]


def confluent_admin_config(settings: EvaluationsSettings) -> dict[str, str | int | float | bool]:
    """librdkafka settings of the lab admin principal."""
    options = settings.kafka_client_options(admin=True)
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": options["security_protocol"],
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": options["sasl_plain_username"],
        "sasl.password": options["sasl_plain_password"],
    }


def _provision_principal_blocking(settings: EvaluationsSettings, lab_id: str, password: str | None) -> None:
    from confluent_kafka.admin import (
        AdminClient,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = AdminClient(confluent_admin_config(settings))
    try:
        if password is not None:
            upsert = UserScramCredentialUpsertion(
                lab_principal(lab_id), ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password.encode()
            )
            for future in admin.alter_user_scram_credentials([upsert], request_timeout=15).values():
                future.result()
        for future in admin.create_acls(lab_acl_bindings(lab_id), request_timeout=15).values():
            future.result()
    except Exception as error:
        raise LabProvisioningError(f"Kafka refused lab {lab_id}'s user or ACLs: {error}") from error
