"""The SASL broker settings and the ACLs each principal gets (pure parts of devstack.kafka_security)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.kafka_security import (
    KafkaCredentials,
    sasl_broker_properties,
    sasl_format_args,
    sasl_requested,
    service_acl_specs,
    stack_credentials,
)
from registry_contracts import ALL_TOPICS

pytestmark = pytest.mark.unit
ADMIN = KafkaCredentials("admin", "s3cret")


def test_the_broker_denies_what_no_acl_allows_and_authenticates_with_scram() -> None:
    props = sasl_broker_properties(port=1, controller_port=2, admin=ADMIN)
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert 'username="admin" password="s3cret";' in props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert sasl_format_args(ADMIN) == ["--add-scram", "SCRAM-SHA-512=[name=admin,password=s3cret]"]


def test_sasl_is_opt_in() -> None:
    assert not sasl_requested({})
    assert sasl_requested({"REGISTRY_KAFKA_SASL": "1"})


def test_services_write_only_what_they_own_and_read_what_they_consume() -> None:
    specs = service_acl_specs(ALL_TOPICS)
    intake = set(specs["svc-intake"])
    assert ("TOPIC", "intake.filings.v1", "LITERAL", "WRITE") in intake
    assert ("TOPIC", "verification.outcomes.v1", "LITERAL", "WRITE") not in intake
    evaluations = set(specs["svc-evaluations"])
    assert ("TOPIC", "verification.outcomes.v1", "LITERAL", "READ") in evaluations
    assert ("TOPIC", "labs.", "PREFIXED", "READ") in evaluations
    assert ("TOPIC", "evaluations.requests.", "PREFIXED", "WRITE") in evaluations
    assert ("TOPIC", "labs.", "PREFIXED", "WRITE") not in evaluations  # only labs write their results
    assert all(op != "ALTER" for entries in specs.values() for _, _, _, op in entries)


def test_credentials_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = stack_credentials(tmp_path)
    assert set(first) == {"admin", "svc-intake", "svc-verification", "svc-evaluations", "svc-enforcement"}
    assert stack_credentials(tmp_path) == first
    assert all("," not in c.password for c in first.values())  # StorageTool's --add-scram splits on commas
    assert (tmp_path / "kafka" / "credentials.json").stat().st_mode & 0o077 == 0
