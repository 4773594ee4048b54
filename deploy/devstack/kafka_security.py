"""SASL/SCRAM authentication and ACLs for the local broker (opt-in: REGISTRY_KAFKA_SASL=1).

The client listener becomes SASL_PLAINTEXT with SCRAM-SHA-512 (SASL_SSL in production, see
docs/evaluations.md); the controller listener stays PLAINTEXT on loopback, so `User:ANONYMOUS` is a super
user there, as in Kafka's own KRaft authorization tests. StandardAuthorizer with
allow.everyone.if.no.acl.found=false: a principal can do only what an ACL allows.

Principals: `admin` (super user, created at format time; devstack and tests use it), one per service
(`svc-<name>`: write the topics it owns, read the topics it consumes with its own groups) and one per lab
(`lab-<lab_id>`, created by the evaluations service when it onboards the lab). SCRAM users and ACLs are
created with confluent-kafka's AdminClient (aiokafka has no ACL or SCRAM calls).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack._proc import LOOPBACK

SASL_ENV_VAR = "REGISTRY_KAFKA_SASL"
MECHANISM = "SCRAM-SHA-512"
ADMIN_USER = "admin"
SERVICES = ("intake", "verification", "evaluations", "enforcement")


def sasl_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether REGISTRY_KAFKA_SASL asks for the SASL broker (the default stays PLAINTEXT)."""
    return (os.environ if environ is None else environ).get(SASL_ENV_VAR, "") in ("1", "true", "yes")


@dataclass(frozen=True)
class KafkaCredentials:
    """How a client authenticates: protocol, mechanism, username and password."""

    username: str
    password: str
    security_protocol: str = "SASL_PLAINTEXT"
    mechanism: str = MECHANISM

    def aiokafka_options(self) -> dict[str, str]:
        return {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def librdkafka_config(self, bootstrap: str) -> dict[str, str | int | float | bool]:
        return {
            "bootstrap.servers": bootstrap,
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password,
        }

    def service_environment(self) -> dict[str, str]:
        """The variables a registry service reads (services/plumbing/settings.py)."""
        return {
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "KAFKA_SASL_USERNAME": self.username,
            "KAFKA_SASL_PASSWORD": self.password,
        }


def credentials_file(state_dir: Path) -> Path:
    return state_dir.resolve() / "kafka" / "credentials.json"


def stack_credentials(state_dir: Path) -> dict[str, KafkaCredentials]:
    """The admin's and every service's credentials of this state dir, generated once and kept (0600)."""
    path = credentials_file(state_dir)
    try:
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = {}
    wanted = [ADMIN_USER, *(service_principal(s) for s in SERVICES)]
    if any(name not in stored for name in wanted):
        # Passwords must not contain commas: StorageTool's --add-scram syntax splits on them.
        stored = {name: stored.get(name) or secrets.token_urlsafe(18) for name in wanted}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=1), encoding="utf-8")
        path.chmod(0o600)
    return {name: KafkaCredentials(name, password) for name, password in stored.items()}


def service_principal(service: str) -> str:
    return f"svc-{service}"


def sasl_broker_properties(*, port: int, controller_port: int, admin: KafkaCredentials) -> dict[str, str]:
    """server.properties overrides: a SASL_PLAINTEXT/SCRAM client listener, StandardAuthorizer, no default allow."""
    jaas = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{admin.username}" ' + (
        f'password="{admin.password}";'
    )
    return {
        "listeners": f"SASL_PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": jaas,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # ANONYMOUS is only ever the PLAINTEXT controller listener on loopback (broker <-> its own controller).
        "super.users": f"User:{admin.username};User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
    }


def sasl_format_args(admin: KafkaCredentials) -> list[str]:
    """StorageTool format arguments creating the admin's SCRAM credential before the broker first starts."""
    return ["--add-scram", f"{MECHANISM}=[name={admin.username},password={admin.password}]"]


def service_acl_specs(topics: Iterable[Any]) -> dict[str, list[tuple[str, str, str, str]]]:
    """(resource type, name, pattern, operation) per service principal, from the topic definitions.

    A service writes the topics it produces (and its dead-letter topic), reads those it consumes with groups
    named after it; evaluations also reads every lab's result topic and writes every lab's request topic.
    """
    specs: dict[str, list[tuple[str, str, str, str]]] = {service_principal(s): [] for s in SERVICES}
    for topic in topics:
        if topic.producer in SERVICES:
            specs[service_principal(topic.producer)] += [
                ("TOPIC", topic.name, "LITERAL", "WRITE"),
                ("TOPIC", topic.name, "LITERAL", "DESCRIBE"),
            ]
        for consumer in topic.consumers:
            if consumer in SERVICES:
                specs[service_principal(consumer)] += [
                    ("TOPIC", topic.name, "LITERAL", "READ"),
                    ("TOPIC", topic.name, "LITERAL", "DESCRIBE"),
                ]
    for service in SERVICES:
        specs[service_principal(service)].append(("GROUP", service, "PREFIXED", "READ"))
    specs[service_principal("evaluations")] += [
        ("TOPIC", "evaluations.requests.", "PREFIXED", "WRITE"),
        ("TOPIC", "evaluations.requests.", "PREFIXED", "DESCRIBE"),
        ("TOPIC", "labs.", "PREFIXED", "READ"),
        ("TOPIC", "labs.", "PREFIXED", "DESCRIBE"),
    ]
    return specs


def provision_service_principals(bootstrap: str, state_dir: Path, topics: Iterable[Any]) -> list[str]:
    """Create (or refresh) every service's SCRAM user and ACLs as the admin; returns the principals."""
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        AdminClient,
        ResourcePatternType,
        ResourceType,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    credentials = stack_credentials(state_dir)
    admin = AdminClient(credentials[ADMIN_USER].librdkafka_config(bootstrap))
    specs = service_acl_specs(topics)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), credentials[name].password.encode()
        )
        for name in specs
    ]
    for future in admin.alter_user_scram_credentials(upserts, request_timeout=30).values():
        future.result()
    bindings = [
        AclBinding(
            ResourceType[kind],
            name,
            ResourcePatternType[pattern],
            f"User:{principal}",
            "*",
            AclOperation[operation],
            AclPermissionType.ALLOW,
        )
        for principal, entries in specs.items()
        for kind, name, pattern, operation in entries
    ]
    for future in admin.create_acls(bindings, request_timeout=30).values():
        future.result()
    return sorted(specs)


def service_environment(state_dir: Path, service: str) -> dict[str, str]:
    """The SASL variables a service process needs; evaluations also gets the admin as its lab admin.

    The lab admin creates lab users and ACLs (ALTER on the cluster): in production give it its own
    principal with just that, not the super user.
    """
    credentials = stack_credentials(state_dir)
    env = credentials[service_principal(service)].service_environment()
    if service == "evaluations":
        env |= {
            "LAB_KAFKA_ADMIN_USERNAME": credentials[ADMIN_USER].username,
            "LAB_KAFKA_ADMIN_PASSWORD": credentials[ADMIN_USER].password,
        }
    return env
